/*
 * seccomp_probe: tries raw syscalls and prints what happened, one line per probe.
 *
 * Usage: seccomp_probe LABEL:NR[:ARG]... ...
 *   NR and ARGs are numbers (strtoull base 0: 0x.. accepted); the ARG "self" is getpid().
 *   An NR written "i<number>" is made through int $0x80, the i386 compat entry (seccomp sees
 *   AUDIT_ARCH_I386), with the arguments truncated to 32 bits.
 * Each probe runs in its own forked child so that TRAP, KILL_THREAD and KILL_PROCESS can be
 * told apart from errors: the child exits 0 on success, errno on failure, 200 from a SIGSYS
 * handler (SECCOMP_RET_TRAP); a child killed by a signal is reported as such.
 * Output: "LABEL ok", "LABEL errno N", "LABEL trap", "LABEL signal N".
 * Built static (gcc -static) so it runs in a busybox rootfs and on the host alike.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRAP_EXIT 200

static void on_sigsys(int sig)
{
	(void)sig;
	_exit(TRAP_EXIT);
}

static unsigned long long parse_arg(const char *text)
{
	if (strcmp(text, "self") == 0)
		return (unsigned long long)getpid();
	return strtoull(text, NULL, 0);
}

#if defined(__x86_64__)
static long int80(const unsigned long long *v)
{
	long ret;

	/* ebp carries the sixth argument; it is saved around the call by hand. */
	__asm__ volatile("push %%rbp\n\tmov %7, %%rbp\n\tint $0x80\n\tpop %%rbp"
			 : "=a"(ret)
			 : "a"((long)v[0]), "b"((long)(unsigned int)v[1]),
			   "c"((long)(unsigned int)v[2]), "d"((long)(unsigned int)v[3]),
			   "S"((long)(unsigned int)v[4]), "D"((long)(unsigned int)v[5]),
			   "r"((long)(unsigned int)v[6])
			 : "memory", "r8", "r9", "r10", "r11");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
#endif

static int probe(char *spec)
{
	unsigned long long values[7] = {0};
	int count = 0;
	char *save = NULL;
	char *label = strtok_r(spec, ":", &save);
	char *field;

	int compat = 0;

	while ((field = strtok_r(NULL, ":", &save)) != NULL && count < 7) {
		if (count == 0 && field[0] == 'i') {
			compat = 1;
			field++;
		}
		values[count++] = parse_arg(field);
	}
	if (label == NULL || count == 0) {
		fprintf(stderr, "seccomp_probe: bad probe %s\n", spec);
		return 2;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("seccomp_probe: fork");
		return 2;
	}
	if (pid == 0) {
		struct sigaction action;
		memset(&action, 0, sizeof action);
		action.sa_handler = on_sigsys;
		sigaction(SIGSYS, &action, NULL);
		long ret;
#if defined(__x86_64__)
		if (compat)
			ret = int80(values);
		else
#endif
			ret = syscall((long)values[0], values[1], values[2], values[3],
				      values[4], values[5], values[6]);
		(void)compat;
		_exit(ret < 0 ? (errno & 0xff) : 0);
	}
	int status = 0;
	if (waitpid(pid, &status, 0) < 0) {
		perror("seccomp_probe: waitpid");
		return 2;
	}
	if (WIFSIGNALED(status))
		printf("%s signal %d\n", label, WTERMSIG(status));
	else if (WEXITSTATUS(status) == TRAP_EXIT)
		printf("%s trap\n", label);
	else if (WEXITSTATUS(status) == 0)
		printf("%s ok\n", label);
	else
		printf("%s errno %d\n", label, WEXITSTATUS(status));
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= probe(argv[i]);
	fflush(stdout);
	return rc;
}

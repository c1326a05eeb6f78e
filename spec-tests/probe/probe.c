/*
 * probe: reports what a process sees inside a container as ONE JSON object on stdout.
 *
 * Usage: probe TOPIC [ARGS...]
 *   hostname ids cwd env umask rlimits mounts namespaces devices oom pid fds tty cgroup clocks
 *       -> {"TOPIC": ...}
 *   paths PATH...       -> {"paths": {PATH: {exists, type, read_ok, read_errno, read_len,
 *                            write_ok, write_errno, ro_mount, entries}}}
 *   sysctl NAME...      -> {"sysctl": {NAME: "value" | null}}
 *   all [ARG...]        -> every topic above; ARGs starting with '/' go to "paths",
 *                          the others to "sysctl"
 *   creat PATH          -> {"creat": {"ok": bool, "errno": N}} (removes the file it made)
 *   exit N              -> exits with status N, prints nothing
 *   sleep               -> pauses until a signal ends it
 *   echo TEXT           -> prints TEXT and a newline
 * Built static (gcc -static -O2) so it runs in any rootfs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- a tiny JSON writer: callers emit keys and values, commas are automatic ---- */
static int first[64];
static int depth;

static void sep(void)
{
	if (!first[depth])
		putchar(',');
	first[depth] = 0;
}

static void str_raw(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void open_(char c) { putchar(c); first[++depth] = 1; }
static void close_(char c) { depth--; putchar(c); }
static void key(const char *k) { sep(); str_raw(k); putchar(':'); first[depth + 1] = 1; }
/* values: after key() no separator is needed; inside arrays one is */
static int in_array[64];
static void vsep(void) { if (in_array[depth]) sep(); }
static void v_str(const char *s) { vsep(); str_raw(s); }
static void v_num(long long n) { vsep(); printf("%lld", n); }
static void v_bool(int b) { vsep(); fputs(b ? "true" : "false", stdout); }
static void obj_begin(void) { vsep(); open_('{'); in_array[depth] = 0; }
static void obj_end(void) { close_('}'); }
static void arr_begin(void) { vsep(); open_('['); in_array[depth] = 1; }
static void arr_end(void) { close_(']'); }

static void kv_str(const char *k, const char *s) { key(k); if (s) str_raw(s); else fputs("null", stdout); }
static void kv_num(const char *k, long long n) { key(k); printf("%lld", n); }
static void kv_bool(const char *k, int b) { key(k); fputs(b ? "true" : "false", stdout); }

/* ---- helpers ---- */
static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t total = 0, n;
	while ((size_t)total < size - 1 && (n = read(fd, buf + total, size - 1 - total)) > 0)
		total += n;
	int err = n < 0 ? errno : 0;
	close(fd);
	buf[total] = 0;
	return err ? -err : (int)total;
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = 0;
}

/* ---- topics ---- */
static void t_hostname(void)
{
	struct utsname u;
	uname(&u);
	key("hostname");
	obj_begin();
	kv_str("hostname", u.nodename);
	kv_str("domainname", u.domainname);
	obj_end();
}

static void t_ids(void)
{
	static char buf[16384];
	key("ids");
	obj_begin();
	kv_num("uid", getuid());
	kv_num("euid", geteuid());
	kv_num("gid", getgid());
	kv_num("egid", getegid());
	gid_t groups[256];
	int n = getgroups(256, groups);
	key("groups");
	arr_begin();
	for (int i = 0; i < n; i++)
		v_num(groups[i]);
	arr_end();
	if (read_file("/proc/self/status", buf, sizeof buf) > 0) {
		static const char *fields[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
					       "NoNewPrivs", "Seccomp", NULL};
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			char *colon = strchr(line, ':');
			if (!colon)
				continue;
			*colon = 0;
			for (int i = 0; fields[i]; i++) {
				if (strcmp(line, fields[i]) == 0) {
					char *v = colon + 1;
					while (*v == ' ' || *v == '\t')
						v++;
					kv_str(fields[i], v);
				}
			}
		}
	}
	obj_end();
}

static void t_cwd(void)
{
	char cwd[PATH_MAX];
	kv_str("cwd", getcwd(cwd, sizeof cwd) ? cwd : NULL);
}

static void t_env(void)
{
	key("env");
	arr_begin();
	for (char **e = environ; *e; e++)
		v_str(*e);
	arr_end();
}

static void t_umask(void)
{
	mode_t m = umask(0);
	umask(m);
	char s[8];
	snprintf(s, sizeof s, "%04o", m);
	kv_str("umask", s);
}

static const struct { const char *name; int res; } limits[] = {
	{"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_CPU", RLIMIT_CPU},
	{"RLIMIT_DATA", RLIMIT_DATA}, {"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_NPROC", RLIMIT_NPROC},
	{"RLIMIT_RSS", RLIMIT_RSS}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", RLIMIT_RTTIME}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_STACK", RLIMIT_STACK}, {NULL, 0}};

static void t_rlimits(void)
{
	key("rlimits");
	obj_begin();
	for (int i = 0; limits[i].name; i++) {
		struct rlimit rl;
		getrlimit(limits[i].res, &rl);
		key(limits[i].name);
		obj_begin();
		kv_num("soft", rl.rlim_cur == RLIM_INFINITY ? -1 : (long long)rl.rlim_cur);
		kv_num("hard", rl.rlim_max == RLIM_INFINITY ? -1 : (long long)rl.rlim_max);
		obj_end();
	}
	obj_end();
}

/* mountinfo: ID PARENT MAJ:MIN ROOT TARGET OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS */
static void t_mounts(void)
{
	static char buf[1 << 18];
	key("mounts");
	arr_begin();
	if (read_file("/proc/self/mountinfo", buf, sizeof buf) <= 0) {
		arr_end();
		return;
	}
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[64];
		int n = 0;
		char *s2 = NULL;
		for (char *t = strtok_r(line, " ", &s2); t && n < 64; t = strtok_r(NULL, " ", &s2))
			f[n++] = t;
		int dash = -1;
		for (int i = 6; i < n; i++)
			if (strcmp(f[i], "-") == 0) {
				dash = i;
				break;
			}
		if (dash < 0 || dash + 3 >= n + 1)
			continue;
		obj_begin();
		kv_str("root", f[3]);
		kv_str("target", f[4]);
		kv_str("options", f[5]);
		char prop[128] = "";
		for (int i = 6; i < dash; i++) {
			const char *kind = strncmp(f[i], "shared:", 7) == 0   ? "shared"
					   : strncmp(f[i], "master:", 7) == 0 ? "slave"
					   : strcmp(f[i], "unbindable") == 0  ? "unbindable"
									      : f[i];
			if (prop[0])
				strncat(prop, ",", sizeof prop - strlen(prop) - 1);
			strncat(prop, kind, sizeof prop - strlen(prop) - 1);
		}
		kv_str("propagation", prop[0] ? prop : "private");
		kv_str("fstype", dash + 1 < n ? f[dash + 1] : "");
		kv_str("source", dash + 2 < n ? f[dash + 2] : "");
		kv_str("superoptions", dash + 3 < n ? f[dash + 3] : "");
		obj_end();
	}
	arr_end();
}

static void t_namespaces(void)
{
	static const char *ns[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
				   "time", "time_for_children", "user", "uts", NULL};
	key("namespaces");
	obj_begin();
	for (int i = 0; ns[i]; i++) {
		char path[64], target[128];
		snprintf(path, sizeof path, "/proc/self/ns/%s", ns[i]);
		ssize_t n = readlink(path, target, sizeof target - 1);
		if (n < 0) {
			kv_str(ns[i], NULL);
			continue;
		}
		target[n] = 0;
		kv_str(ns[i], target);
	}
	static char map[4096];
	kv_str("uid_map", read_file("/proc/self/uid_map", map, sizeof map) >= 0 ? map : NULL);
	kv_str("gid_map", read_file("/proc/self/gid_map", map, sizeof map) >= 0 ? map : NULL);
	obj_end();
}

static char ftype(mode_t m)
{
	return S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l'
	       : S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : 'f';
}

static void list_dir(const char *dir)
{
	DIR *d = opendir(dir);
	key(dir);
	obj_begin();
	if (!d) {
		obj_end();
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (lstat(path, &st) < 0)
			continue;
		key(e->d_name);
		obj_begin();
		char t[2] = {ftype(st.st_mode), 0};
		kv_str("type", t);
		char mode[8];
		snprintf(mode, sizeof mode, "%04o", st.st_mode & 07777);
		kv_str("mode", mode);
		kv_num("uid", st.st_uid);
		kv_num("gid", st.st_gid);
		if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			kv_num("major", major(st.st_rdev));
			kv_num("minor", minor(st.st_rdev));
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlink(path, target, sizeof target - 1);
			target[n < 0 ? 0 : n] = 0;
			kv_str("target", target);
		}
		obj_end();
	}
	closedir(d);
	obj_end();
}

static void t_devices(void)
{
	key("devices");
	obj_begin();
	list_dir("/dev");
	list_dir("/dev/pts");
	obj_end();
}

static void t_oom(void)
{
	char buf[64];
	int n = read_file("/proc/self/oom_score_adj", buf, sizeof buf);
	key("oom_score_adj");
	if (n > 0)
		printf("%d", atoi(buf));
	else
		fputs("null", stdout);
}

static void t_pid(void)
{
	key("pid");
	obj_begin();
	kv_num("pid", getpid());
	kv_num("ppid", getppid());
	obj_end();
}

static void t_fds(void)
{
	/* list fds first (opendir uses one), then report without the directory's own fd */
	DIR *d = opendir("/proc/self/fd");
	int own = d ? dirfd(d) : -1;
	key("fds");
	obj_begin();
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == own)
			continue;
		char path[300], target[PATH_MAX];
		snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(path, target, sizeof target - 1);
		target[n < 0 ? 0 : n] = 0;
		kv_str(e->d_name, target);
	}
	if (d)
		closedir(d);
	obj_end();
}

static void t_tty(void)
{
	key("tty");
	obj_begin();
	key("isatty");
	arr_begin();
	for (int fd = 0; fd < 3; fd++)
		v_bool(isatty(fd));
	arr_end();
	char *name = ttyname(0);
	kv_str("ttyname", name);
	obj_end();
}

static void t_cgroup(void)
{
	static char buf[8192];
	key("cgroup");
	obj_begin();
	if (read_file("/proc/self/cgroup", buf, sizeof buf) > 0) {
		/* ID:CONTROLLERS:PATH */
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			char *a = strchr(line, ':');
			char *b = a ? strchr(a + 1, ':') : NULL;
			if (!b)
				continue;
			*b = 0;
			kv_str(a[1] ? a + 1 : "unified", b + 1);
		}
	}
	obj_end();
}

static void one_path(const char *path)
{
	struct stat st;
	key(path);
	obj_begin();
	if (lstat(path, &st) < 0) {
		kv_bool("exists", 0);
		kv_num("errno", errno);
		obj_end();
		return;
	}
	kv_bool("exists", 1);
	char t[2] = {ftype(st.st_mode), 0};
	kv_str("type", t);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
		kv_num("major", major(st.st_rdev));
		kv_num("minor", minor(st.st_rdev));
	}
	struct statvfs sv;
	if (statvfs(path, &sv) == 0)
		kv_bool("ro_mount", (sv.f_flag & ST_RDONLY) != 0);
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		int count = 0;
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				count++;
		kv_bool("read_ok", d != NULL);
		kv_num("read_errno", d ? 0 : errno);
		kv_num("entries", count);
		if (d)
			closedir(d);
		obj_end();
		return;
	}
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	kv_bool("read_ok", fd >= 0);
	kv_num("read_errno", fd >= 0 ? 0 : errno);
	if (fd >= 0) {
		char buf[4096];
		ssize_t n = S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) ? read(fd, buf, sizeof buf) : 0;
		kv_num("read_len", n);
		close(fd);
	}
	/* O_WRONLY open tests permission and read-only mounts without writing anything */
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	kv_bool("write_ok", fd >= 0);
	kv_num("write_errno", fd >= 0 ? 0 : errno);
	if (fd >= 0)
		close(fd);
	obj_end();
}

static void t_paths(int argc, char **argv)
{
	key("paths");
	obj_begin();
	for (int i = 0; i < argc; i++)
		if (argv[i][0] == '/')
			one_path(argv[i]);
	obj_end();
}

static void t_sysctl(int argc, char **argv)
{
	key("sysctl");
	obj_begin();
	for (int i = 0; i < argc; i++) {
		if (argv[i][0] == '/')
			continue;
		char path[PATH_MAX] = "/proc/sys/";
		size_t off = strlen(path);
		for (const char *p = argv[i]; *p && off < sizeof path - 1; p++)
			path[off++] = *p == '.' ? '/' : *p;
		path[off] = 0;
		char buf[4096];
		if (read_file(path, buf, sizeof buf) < 0) {
			kv_str(argv[i], NULL);
			continue;
		}
		chomp(buf);
		kv_str(argv[i], buf);
	}
	obj_end();
}

static void t_creat(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int err = fd < 0 ? errno : 0;
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	key("creat");
	obj_begin();
	kv_bool("ok", fd >= 0);
	kv_num("errno", err);
	obj_end();
}

static void t_clocks(void)
{
	struct timespec mono, boot;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	key("clocks");
	obj_begin();
	kv_num("monotonic", mono.tv_sec);
	kv_num("boottime", boot.tv_sec);
	obj_end();
}

static const struct { const char *name; void (*fn)(void); } topics[] = {
	{"hostname", t_hostname}, {"ids", t_ids}, {"cwd", t_cwd}, {"env", t_env},
	{"umask", t_umask}, {"rlimits", t_rlimits}, {"mounts", t_mounts},
	{"namespaces", t_namespaces}, {"devices", t_devices}, {"oom", t_oom}, {"pid", t_pid},
	{"fds", t_fds}, {"tty", t_tty}, {"cgroup", t_cgroup}, {"clocks", t_clocks},
	{NULL, NULL}};

static void on_signal(int sig) { _exit(128 + sig); }

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: probe TOPIC [ARGS...]\n");
		return 2;
	}
	const char *topic = argv[1];
	if (strcmp(topic, "exit") == 0)
		return argc > 2 ? atoi(argv[2]) : 0;
	if (strcmp(topic, "echo") == 0) {
		printf("%s\n", argc > 2 ? argv[2] : "");
		return 0;
	}
	if (strcmp(topic, "sleep") == 0) {
		/* as pid 1 default-action signals are ignored: handle the usual ones */
		signal(SIGTERM, on_signal);
		signal(SIGINT, on_signal);
		signal(SIGHUP, on_signal);
		signal(SIGUSR1, on_signal);
		for (;;)
			pause();
	}
	first[0] = 1;
	open_('{');
	in_array[depth] = 0;
	int all = strcmp(topic, "all") == 0, found = all;
	for (int i = 0; topics[i].name; i++)
		if (all || strcmp(topic, topics[i].name) == 0) {
			topics[i].fn();
			found = 1;
		}
	if (all || strcmp(topic, "paths") == 0) {
		t_paths(argc - 2, argv + 2);
		found = 1;
	}
	if (all || strcmp(topic, "sysctl") == 0) {
		t_sysctl(argc - 2, argv + 2);
		found = 1;
	}
	if (strcmp(topic, "creat") == 0 && argc > 2) {
		t_creat(argv[2]);
		found = 1;
	}
	close_('}');
	putchar('\n');
	fflush(stdout);
	if (!found) {
		fprintf(stderr, "probe: unknown topic %s\n", topic);
		return 2;
	}
	return 0;
}

"""The seeds' docker cheat sheet as one client session (diff_harness.Step): what a user types,
in order, each step's exit code as dockerd 20.10 answers it. Objects are named (cs-*) so ids
normalise to names; the registry is each side's own 127.0.0.1:5000."""

from __future__ import annotations

from diff_harness import Step

REG = "127.0.0.1:5000"
PROMPT = b"# "  # busybox sh's prompt for root ("/ # ", "/app # ")
TOP = (r"(?m)^(\S+)\s+\d+\s+\d+\s+\d+\s+\S+\s+\S+\s+\S+", r"\1 <pid> <ppid> <c> <stime> <tty> <t>")
PUSH = (r"size: \d+", "size: <n>")
LAYER = (r"(?m)^[0-9a-f]{12}: ", "<layer>: ")  # layers pushed and pulled side by side: sorted

def progress(command: str, *passing: str) -> str:
    """`command` with the layer states a fast transfer may skip (and dockerd does, at random)
    left out of its output; its exit status kept."""
    states = "\\|".join(passing)
    return (f"{command} >progress.out; status=$?; "
            f"grep -v ': \\({states}\\)$' progress.out; exit $status")


SESSION: list[Step] = [
    # run: foreground, -it on a terminal, -d with published ports, names
    Step("run-rm", "docker run --rm busybox echo hello world"),
    Step("run-exit-code", "docker run --rm busybox sh -c 'exit 3'", exit=3),
    Step("run-no-such-cmd", "docker run --rm busybox nosuchcmd", exit=127),
    Step("run-stdin", "docker run --rm -i busybox sh -c 'tr a-z A-Z'", stdin=b"piped in\n"),
    Step("run-it", "docker run -it --rm --name cs-it busybox sh", exit=5,
         pty=((PROMPT, b"echo tty: $(tty) cols: $(stty size)\r"), (PROMPT, b"exit 5\r"))),
    Step("run-it-detach", "docker run -it --name cs-itd busybox sh",
         pty=((PROMPT, b"\x10\x11"),)),
    Step("attach-it", "docker attach cs-itd", exit=7,
         pty=((b"", b"\r"), (PROMPT, b"exit 7\r"))),
    Step("run-d-P", "docker run -d -P --name cs-web --expose 80 busybox "
         "sh -c 'mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 80 -h /www'"),
    Step("run-name-taken", "docker run -d --name cs-web busybox true", exit=125),
    Step("port", "docker port cs-web"),
    Step("port-one", "docker port cs-web 80/tcp"),
    Step("inspect-f-port", "docker inspect -f "
         "'{{(index (index .NetworkSettings.Ports \"80/tcp\") 0).HostPort}}' cs-web",
         capture="WEB_PORT", subs=((r"^\d+", "<port>"),)),
    Step("curl-published", "$NSENTER busybox wget -qO- http://127.0.0.1:$WEB_PORT/"),
    Step("link", "docker run --rm --name cs-lnk --link cs-web:webalias busybox sh -c "
         "'wget -qO- http://webalias/ && echo $WEBALIAS_PORT_80_TCP_PORT $WEBALIAS_NAME'"),
    Step("link-hosts", "docker run --rm --link cs-web:webalias busybox "
         "sh -c 'grep webalias /etc/hosts'"),
    # inspect -f, ps
    Step("inspect-f", "docker inspect -f "
         "'{{.Name}} {{.State.Status}} {{.Config.Image}} {{.Config.Cmd}} "
         "{{.HostConfig.PublishAllPorts}} {{.RestartCount}}' cs-web"),
    Step("inspect-f-json", "docker inspect -f '{{json .Config.ExposedPorts}}' cs-web"),
    Step("inspect-image-f",
         "docker inspect -f '{{.Config.Cmd}} {{.Os}} {{.Architecture}}' busybox"),
    Step("inspect-missing", "docker inspect cs-nosuch", exit=1),
    Step("ps", "docker ps"),
    Step("ps-format", "docker ps -a --format "
         "'{{.Names}}|{{.Image}}|{{.Command}}|{{.Status}}|{{.Ports}}'"),
    Step("ps-q-filter", "docker ps -q --filter name=cs-web"),
    # logs
    Step("run-logger", "docker run -d --name cs-log busybox "
         "sh -c 'for i in 1 2 3; do echo out $i; echo err $i >&2; sleep 0.2; done'"),
    Step("logs-f", "docker logs -f cs-log"),
    Step("logs-tail", "docker logs --tail 2 cs-log"),
    Step("logs-missing", "docker logs cs-nosuch", exit=1),
    # stop/start/restart/kill/rm/wait/attach
    Step("stop", "docker stop -t 1 cs-web"),
    Step("stop-again", "docker stop cs-web"),
    Step("ps-exited", "docker ps -a --filter name=cs-web --format '{{.Status}}'"),
    Step("start", "docker start cs-web"),
    Step("restart", "docker restart -t 1 cs-web"),
    Step("inspect-running", "docker inspect -f '{{.State.Running}} {{.State.ExitCode}}' cs-web"),
    Step("rm-running", "docker rm cs-web", exit=1),
    Step("kill", "docker kill cs-web"),
    Step("wait-exited", "docker wait cs-web"),
    Step("kill-stopped", "docker kill cs-web", exit=1),
    Step("rm", "docker rm cs-web"),
    Step("rm-missing", "docker rm cs-web", exit=1),
    Step("run-waited", "docker run -d --name cs-wait busybox sh -c 'sleep 0.5; exit 4'"),
    Step("wait", "docker wait cs-wait"),
    Step("run-attachable", "docker run -d -i --name cs-att busybox sh -c 'read x; echo got $x'"),
    # stdin held open until the answer came: dockerd ends an attach when its stdin ends, and
    # may drop output still on the way
    Step("attach", "mkfifo att.in; { docker attach cs-att <att.in >att.out 2>&1; "
         "echo exit $? >>att.out; } & exec 3>att.in; echo hello >&3; "
         "until grep -q got att.out; do sleep 0.1; done; exec 3>&-; wait; cat att.out"),
    Step("start-a", "docker start -a cs-wait", exit=4),
    Step("rm-f", "docker rm -f cs-wait cs-att cs-log cs-itd"),
    # exec, top, stats, diff, cp, export
    Step("run-sleeper", "docker run -d --name cs-box busybox sleep 1000"),
    Step("exec", "docker exec cs-box sh -c 'echo in $(hostname | wc -c) chars; id'"),
    Step("exec-i", "docker exec -i cs-box sh -c 'wc -l'", stdin=b"a\nb\nc\n"),
    Step("exec-it", "docker exec -it cs-box sh", exit=2,
         pty=((PROMPT, b"echo exec tty $(stty size)\r"), (PROMPT, b"exit 2\r"))),
    Step("exec-env-w", "docker exec -e FOO=bar -w /tmp -u 1000 cs-box "
         "sh -c 'echo $FOO $(pwd) $(id -u)'"),
    Step("exec-missing", "docker exec cs-box nosuchcmd", exit=126),
    Step("top", "docker top cs-box", subs=(TOP,)),
    Step("stats", "docker stats --no-stream cs-box"),
    Step("stats-format", "docker stats --no-stream --format '{{.Name}} {{.PIDs}}' cs-box"),
    Step("changes", "docker exec cs-box sh -c 'touch /tmp/new && rm /etc/group && mkdir /newdir'"),
    Step("diff", "docker diff cs-box", sort=True),  # dockerd's order varies
    Step("cp-out", "docker cp cs-box:/etc/passwd ./passwd && cat ./passwd"),
    Step("cp-in", "docker cp ./upload.txt cs-box:/tmp/ && docker exec cs-box cat /tmp/upload.txt"),
    Step("cp-stream", "docker cp cs-box:/etc - | tar -t | sort"),
    Step("cp-missing", "docker cp cs-box:/nosuch ./x", exit=1),
    Step("export", "docker export cs-box | tar -t | grep -v '^bin/.\\|^sbin/.\\|^usr/.' | sort"),
    Step("commit", "docker commit -m 'cheat commit' -c 'CMD [\"cat\", \"/tmp/upload.txt\"]' "
         "cs-box cs/committed:1"),
    Step("run-committed", "docker run --rm cs/committed:1"),
    Step("history-committed",
         "docker history --format '{{.CreatedBy}}|{{.Comment}}' cs/committed:1"),
    Step("rm-box", "docker rm -f cs-box"),
    # build (the classic builder: DOCKER_BUILDKIT=0 in the environment)
    Step("build", "docker build -t cs/built:1 ctx"),
    Step("build-cached", "docker build -t cs/built:2 ctx"),
    Step("run-built", "docker run --rm cs/built:1"),
    Step("build-fails", "printf 'FROM busybox\\nRUN exit 9\\n' | docker build --force-rm -",
         exit=9),
    Step("images", "docker images"),
    # sizes in bytes (the table's are normalised): docker's layer size, not the tar's
    Step("image-size", "docker image inspect -f '{{.Size}} {{.VirtualSize}}' busybox"),
    Step("history-size", "docker history --human=false --format '{{.Size}}' busybox"),
    Step("images-format", "docker images --format '{{.Repository}}:{{.Tag}}' | sort"),
    # push, pull, search (each side's own registry)
    Step("tag", f"docker tag cs/built:1 {REG}/cs/built:1"),
    Step("push", progress(f"docker push {REG}/cs/built:1", "Waiting"), subs=(PUSH, LAYER),
         sort=True),
    Step("rmi", f"docker rmi {REG}/cs/built:1 cs/built:1 cs/built:2"),
    Step("pull", progress(f"docker pull {REG}/cs/built:1", "Waiting", "Pulling fs layer",
                          "Verifying Checksum", "Download complete"), subs=(LAYER,), sort=True),
    Step("run-pulled", f"docker run --rm {REG}/cs/built:1"),
    Step("pull-missing", f"docker pull {REG}/cs/nosuch:1", exit=1),
    Step("search", f"docker search {REG}/busybox", exit=1),
    # networks, volumes
    Step("network-create", "docker network create cs-net"),
    Step("network-ls", "docker network ls --format '{{.Name}} {{.Driver}} {{.Scope}}' | sort"),
    Step("network-run", "docker run -d --network cs-net --name cs-n1 busybox sleep 1000"),
    Step("network-dns", "docker run --rm --network cs-net busybox "
         "sh -c 'ping -c1 -W5 cs-n1 >/dev/null && echo reachable'"),
    Step("network-inspect", "docker network inspect -f "
         "'{{.Name}} {{.Driver}} {{range .Containers}}{{.Name}}{{end}}' cs-net"),
    Step("network-rm-in-use", "docker network rm cs-net", exit=1),
    Step("network-disconnect", "docker network disconnect cs-net cs-n1"),
    Step("network-connect", "docker network connect cs-net cs-n1"),
    Step("rm-n1", "docker rm -f cs-n1"),
    Step("network-rm", "docker network rm cs-net"),
    Step("volume-create", "docker volume create cs-vol"),
    Step("volume-write", "docker run --rm -v cs-vol:/data busybox sh -c 'echo kept > /data/f'"),
    Step("volume-read", "docker run --rm -v cs-vol:/data:ro busybox cat /data/f"),
    Step("volume-ls", "docker volume ls"),
    Step("volume-inspect",
         "docker volume inspect -f '{{.Name}} {{.Driver}} {{.Mountpoint}}' cs-vol"),
    Step("volume-rm", "docker volume rm cs-vol"),
    Step("volume-rm-missing", "docker volume rm cs-vol", exit=1),
    # events: everything cs-ev did, between two times of the session
    Step("events-start", "date +%s", capture="T0", subs=((r"\d+", "<epoch>"),)),
    Step("events-run", "docker run --name cs-ev busybox true && docker rm cs-ev"),
    Step("events", "docker events --since $T0 --until $(( $(date +%s) + 1 )) "
         "--filter container=cs-ev --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'"),
    Step("ps-end", "docker ps -a"),
]

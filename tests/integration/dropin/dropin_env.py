"""Private containerd 1.6 and podman 4.3 set-ups for the drop-in tests and tools/bench/managers.py.

Nothing here touches the machine's own manager configuration: containerd gets its own config.toml
(root, state, sockets, opt dir under a temp dir, CRI disabled) and runs as our subprocess; podman
gets ``--root/--runroot`` under a temp dir and a private containers.conf (CONTAINERS_CONF) with
cgroupfs, the file events backend, no network and ulimits this machine allows (no
CAP_SYS_RESOURCE here, so podman's default nofile of 1048576 would fail). Its CNI plugin
directory is empty: a podman or buildah call that would attach a container to a CNI network (a
bridge, iptables chains and /var/lib/cni state in the machine's own network) fails instead.

The image is busybox-static from Debian (tools/mkrootfs-busybox), made into an OCI image with
umoci, copied with skopeo into a clean layout and tarred as an OCI archive whose index carries
``io.containerd.image.name`` (for ``ctr images import``) and a full ref name (for ``podman load``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
IMAGE = "docker.io/library/dropin-busybox:latest"
RUNC = "/usr/sbin/runc"
DEFAULT_TIMEOUT = 60


class DropinError(Exception):
    """A manager set-up step failed (names the command and its output)."""


def run(args: list[str], timeout: float = DEFAULT_TIMEOUT, check: bool = True,
        **kw) -> subprocess.CompletedProcess:
    """Run a command capturing text output; raise DropinError naming it when it fails."""
    if kw.get("input") is None:
        kw.setdefault("stdin", subprocess.DEVNULL)
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and result.returncode != 0:
        raise DropinError(f"{' '.join(args)}: exit {result.returncode}: "
                          f"{(result.stderr or result.stdout).strip()[-3000:]}")
    return result


# -- runtimes ------------------------------------------------------------------------------------
def install_pyrunc(directory: Path) -> Path:
    """Write pyrunc's launcher as ``directory/runc`` (podman keys its --log contract on it)."""
    directory.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "runtime"))
    run(["python3", "-m", "pyrunc.launcher", str(directory / "runc")], env=env,
        cwd=str(REPO_ROOT))
    return directory / "runc"


# -- image ---------------------------------------------------------------------------------------
def build_busybox_archive(work: Path) -> Path:
    """busybox-static rootfs -> umoci image -> skopeo clean layout -> OCI archive (tar)."""
    work.mkdir(parents=True, exist_ok=True)
    rootfs, scratch, clean = work / "rootfs", work / "umoci", work / "layout"
    run([str(REPO_ROOT / "tools" / "mkrootfs-busybox"), str(rootfs)])
    run(["umoci", "init", "--layout", str(scratch)])
    run(["umoci", "new", "--image", f"{scratch}:latest"])
    run(["umoci", "insert", "--image", f"{scratch}:latest", str(rootfs), "/"])
    run(["umoci", "config", "--image", f"{scratch}:latest", "--config.cmd", "sh",
         "--config.env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
         "--config.workingdir", "/"])
    run(["skopeo", "copy", "-q", f"oci:{scratch}:latest", f"oci:{clean}:latest"])
    index_path = clean / "index.json"
    index = json.loads(index_path.read_text())
    for entry in index["manifests"]:
        entry["annotations"] = {"io.containerd.image.name": IMAGE,
                                "org.opencontainers.image.ref.name": IMAGE}
    index_path.write_text(json.dumps(index))
    archive = work / "busybox-oci.tar"
    with tarfile.open(archive, "w") as tar:
        for name in sorted(os.listdir(clean)):
            tar.add(clean / name, arcname=name)
    return archive


# -- clean-up helpers ----------------------------------------------------------------------------
def mounts_under(directory: Path) -> list[str]:
    """Mount points at or below ``directory``, deepest first."""
    prefix = str(directory).rstrip("/") + "/"
    points = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            point = line.split()[4].replace("\\040", " ")
            if point.startswith(prefix) or point == prefix.rstrip("/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def unmount_all_under(directory: Path) -> None:
    for point in mounts_under(directory):
        subprocess.run(["umount", "-l", point], capture_output=True)


def remove_empty_dirs(paths: list[Path]) -> None:
    """rmdir each path (cgroup directories: only empty ones go away)."""
    for path in paths:
        try:
            path.rmdir()
        except OSError:
            pass


def pids_with_arg(needle: str) -> list[int]:
    """Pids whose command line contains ``needle`` as one argument (e.g. our socket path)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if needle.encode() in argv:
            found.append(int(entry))
    return found


def terminate(pid: int, grace: float = 10.0) -> None:
    """SIGTERM ``pid``, SIGKILL after ``grace`` seconds."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not os.path.exists(f"/proc/{pid}") or _is_zombie(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; raise DropinError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DropinError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# -- containerd ----------------------------------------------------------------------------------
class Containerd:
    """A private containerd daemon (our subprocess) and a ``ctr`` bound to it."""

    def __init__(self, base: Path, namespace: str = "dropin") -> None:
        self.base = base
        self.namespace = namespace
        self.address = str(base / "containerd.sock")
        self.root = base / "root"
        self.state = base / "state"
        self.opt_bin = base / "opt" / "bin"
        self.log_path = base / "containerd.log"
        self.process: subprocess.Popen | None = None

    # default runc root the shim passes as --root for this namespace
    @property
    def runtime_root(self) -> Path:
        return Path("/run/containerd/runc") / self.namespace

    def bundle(self, container_id: str) -> Path:
        return self.state / "io.containerd.runtime.v2.task" / self.namespace / container_id

    def start(self) -> None:
        self.opt_bin.mkdir(parents=True, exist_ok=True)
        config = self.base / "config.toml"
        config.write_text(
            "version = 2\n"
            f'root = "{self.root}"\n'
            f'state = "{self.state}"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            "[grpc]\n"
            f'  address = "{self.address}"\n'
            "[ttrpc]\n"
            f'  address = "{self.address}.ttrpc"\n'
            "[debug]\n"
            f'  address = "{self.base}/debug.sock"\n'
            '[plugins."io.containerd.internal.v1.opt"]\n'
            f'  path = "{self.opt_bin.parent}"\n'
        )
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the daemon for its lifetime
        self.process = subprocess.Popen(
            ["containerd", "--config", str(config)], stdout=log, stderr=log,
            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        log.close()
        wait_for(lambda: self.ctr("version", check=False).returncode == 0
                 or self.process.poll() is not None, timeout=30, what="containerd to answer")
        if self.process.poll() is not None:
            raise DropinError(f"containerd exited {self.process.returncode}: "
                              f"{self.log_path.read_text()[-3000:]}")

    def ctr_argv(self, *args: str) -> list[str]:
        """ctr bound to our daemon; run and task exec keep their FIFOs under our base dir
        (ctr leaves a detached exec's FIFOs behind)."""
        args_list = list(args)
        if args_list[:1] == ["run"]:
            args_list[1:1] = ["--fifo-dir", str(self.base / "fifo")]
        elif args_list[:2] == ["task", "exec"]:
            args_list[2:2] = ["--fifo-dir", str(self.base / "fifo")]
        return ["ctr", "--address", self.address, "--namespace", self.namespace, *args_list]

    def ctr(self, *args: str, check: bool = True, timeout: float = DEFAULT_TIMEOUT,
            **kw) -> subprocess.CompletedProcess:
        return run(self.ctr_argv(*args), check=check, timeout=timeout, **kw)

    def import_image(self, archive: Path) -> None:
        self.ctr("images", "import", str(archive), timeout=120)

    def tasks(self) -> dict[str, tuple[int, str]]:
        """``ctr task ls`` as {id: (pid, STATUS)}."""
        rows = {}
        for line in self.ctr("task", "ls").stdout.splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 3:
                rows[parts[0]] = (int(parts[1]), parts[2])
        return rows

    def remove(self, container_id: str) -> None:
        """Kill and delete a task and its container, whatever state they are in."""
        if container_id in self.tasks():
            self.ctr("task", "kill", "-a", "-s", "SIGKILL", container_id, check=False)
            try:
                wait_for(lambda: self.tasks().get(container_id, (0, "STOPPED"))[1] == "STOPPED",
                         timeout=15, what=f"task {container_id} to stop")
            except DropinError:
                pass
            self.ctr("task", "delete", "--force", container_id, check=False)
        self.ctr("container", "delete", container_id, check=False)

    def stop(self) -> None:
        """Remove every container of our namespace, stop the daemon and its shims by pid."""
        if self.process is not None and self.process.poll() is None:
            listing = self.ctr("container", "ls", "-q", check=False).stdout.split()
            for container_id in listing:
                self.remove(container_id)
            terminate(self.process.pid)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in pids_with_arg(self.address):  # task shims started for our daemon
            terminate(pid, grace=5)
        unmount_all_under(self.base)
        # the namespace's parent cgroups and runtime root outlive the containers
        remove_empty_dirs([*Path("/sys/fs/cgroup").glob(f"*/{self.namespace}"),
                           self.runtime_root])


# -- podman --------------------------------------------------------------------------------------
class Podman:
    """podman with private storage, run root, containers.conf and events log."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "root"
        self.runroot = base / "runroot"
        self.conf = base / "containers.conf"
        self.env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        self.env["CONTAINERS_CONF"] = str(self.conf)

    def setup(self) -> None:
        for sub in ("root", "runroot", "tmp", "cni", "no-cni-plugins"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            "[containers]\n"
            'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
            'netns = "none"\n'
            'log_driver = "k8s-file"\n'
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{self.base}/events.log"\n'
            f'tmp_dir = "{self.base}/tmp"\n'
            "[network]\n"
            f'network_config_dir = "{self.base}/cni"\n'
            # no CNI plugins: a client that would attach a container to a CNI network (a bridge,
            # iptables chains and /var/lib/cni state on the machine) fails instead
            f'cni_plugin_dirs = ["{self.base}/no-cni-plugins"]\n'
        )

    def argv(self, *args: str, runtime: str | None = None) -> list[str]:
        prefix = ["podman", "--root", str(self.root), "--runroot", str(self.runroot),
                  "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        if runtime:
            prefix += ["--runtime", runtime]
        return [*prefix, *args]

    def podman(self, *args: str, runtime: str | None = None, check: bool = True,
               timeout: float = DEFAULT_TIMEOUT, **kw) -> subprocess.CompletedProcess:
        # in the private base: conmon drops files (an "oom" marker) into its working directory
        kw.setdefault("cwd", str(self.base))
        return run(self.argv(*args, runtime=runtime), check=check, timeout=timeout,
                   env=self.env, **kw)

    def load(self, archive: Path) -> None:
        self.podman("load", "-q", "-i", str(archive), timeout=120)

    def inspect(self, container: str, runtime: str | None = None) -> dict:
        out = self.podman("container", "inspect", container, runtime=runtime).stdout
        return json.loads(out)[0]

    def stop(self) -> None:
        """Remove every container (podman finds each one's runtime), stop leftovers, unmount."""
        self.podman("rm", "-a", "-f", "-t", "0", check=False, timeout=120)
        for pid in pids_with_arg(str(self.runroot)):  # conmon of anything left over
            terminate(pid, grace=5)
        unmount_all_under(self.base)
        # podman's cgroupfs parent; left alone while anyone else's container uses it
        remove_empty_dirs(list(Path("/sys/fs/cgroup").glob("*/libpod_parent")))


def make_base(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def remove_tree(path: Path) -> None:
    unmount_all_under(path)
    shutil.rmtree(path, ignore_errors=True)

"""The create/run flags of pyctl, shared by verb_create and verb_run, and their request."""

from __future__ import annotations

from pyengine.cli import health_opts, secopts_opts
from pyengine.cli.context import CliError

TYPE_CHECKING = False  # typing and argparse are not imported on pyctl's start-up path
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from pyengine.api import containers_lean
    from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    # -h is --hostname here, as in docker; --help stays (argument groups copy the handler);
    # pyengine.cli.args' parser takes the same attribute
    p.conflict_handler = "resolve"
    if hasattr(p, "_optionals"):  # argparse's
        p._optionals.conflict_handler = "resolve"
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("command", nargs="...", metavar="COMMAND")  # argparse.REMAINDER
    p.add_argument("--name", default="", help="assign a name to the container")
    p.add_argument("-e", "--env", action="append", default=[], help="set environment variables")
    p.add_argument("--env-file", action="append", default=[],
                   help="read in a file of environment variables")
    p.add_argument("-w", "--workdir", default="", help="working directory inside the container")
    p.add_argument("-u", "--user", default="", help="username or UID (<name|uid>[:<group|gid>])")
    p.add_argument("--entrypoint", default=None, help="overwrite the default ENTRYPOINT")
    p.add_argument("-h", "--hostname", default="", help="container host name")
    p.add_argument("-l", "--label", action="append", default=[], help="set meta data")
    p.add_argument("--label-file", action="append", default=[],
                   help="read in a line delimited file of labels")
    p.add_argument("-m", "--memory", default="", help="memory limit")
    p.add_argument("--cpus", default="", help="number of CPUs")
    p.add_argument("--pids-limit", default="", help="tune container pids limit "
                   "(set -1 for unlimited)")
    p.add_argument("--init", action="store_true",
                   help="run an init inside the container that forwards signals and reaps "
                        "processes")
    p.add_argument("--network", "--net", default="",
                   help="connect a container to a network: bridge (the default), none, host, "
                        "a network's name, or container:NAME")
    p.add_argument("-p", "--publish", action="append", default=[],
                   help="publish a container's port(s) to the host")
    p.add_argument("-P", "--publish-all", action="store_true",
                   help="publish all exposed ports to random ports")
    p.add_argument("--expose", action="append", default=[],
                   help="expose a port or a range of ports")
    p.add_argument("--ip", default="", help="IPv4 address (e.g., 172.30.100.104)")
    p.add_argument("--ip6", default="", help="IPv6 address (e.g., 2001:db8::33)")
    p.add_argument("--link-local-ip", action="append", default=[],
                   help="container IPv4/IPv6 link-local addresses")
    p.add_argument("--network-alias", "--net-alias", action="append", default=[],
                   help="add network-scoped alias for the container")
    p.add_argument("--dns", action="append", default=[], help="set custom DNS servers")
    p.add_argument("--dns-search", action="append", default=[],
                   help="set custom DNS search domains")
    p.add_argument("--dns-option", "--dns-opt", action="append", default=[],
                   help="set DNS options")
    p.add_argument("--add-host", action="append", default=[],
                   help="add a custom host-to-IP mapping (host:ip)")
    p.add_argument("--link", action="append", default=[],
                   help="add link to another container")
    p.add_argument("--mac-address", default="", help="container MAC address "
                   "(e.g., 92:d0:c6:0a:29:33)")
    p.add_argument("--runtime", default="", help="runtime to use for this container")
    p.add_argument("--read-only", action="store_true", help="mount the root filesystem read-only")
    p.add_argument("--stop-signal", default="", help="signal to stop the container")
    p.add_argument("--stop-timeout", default=None, help="timeout (in seconds) to stop")
    p.add_argument("-t", "--tty", action="store_true", help="allocate a pseudo-TTY")
    p.add_argument("-i", "--interactive", action="store_true",
                   help="keep STDIN open (fed from pyctl's stdin by run)")
    p.add_argument("--log-driver", default="", help="logging driver for the container "
                   "(json-file or none)")
    p.add_argument("--log-opt", action="append", default=[], help="log driver options")
    p.add_argument("--pid", default="", help="PID namespace to use (host, container:NAME)")
    p.add_argument("--ipc", default="", help="IPC mode to use (private, shareable, none, "
                   "host, container:NAME)")
    p.add_argument("--uts", default="", help="UTS namespace to use (host)")
    p.add_argument("--cgroupns", default="", help="cgroup namespace to use (host, private)")
    p.add_argument("--group-add", action="append", default=[],
                   help="add additional groups to join")
    p.add_argument("--device-cgroup-rule", action="append", default=[],
                   help="add a rule to the cgroup allowed devices list")
    p.add_argument("--volume-driver", default="", help="optional volume driver for the "
                   "container")
    p.add_argument("--restart", default="no",
                   help="restart policy: no, always, unless-stopped, on-failure[:N]")
    p.add_argument("-v", "--volume", action="append", default=[],
                   help="bind mount a volume: [NAME|/HOST:]/CONTAINER[:OPTIONS]")
    p.add_argument("--mount", action="append", default=[],
                   help="attach a filesystem mount to the container (type=bind|volume|tmpfs,"
                        "source=...,target=...)")
    p.add_argument("--tmpfs", action="append", default=[], help="mount a tmpfs directory")
    p.add_argument("--volumes-from", action="append", default=[],
                   help="mount volumes from the specified container(s)")
    health_opts.add(p)
    secopts_opts.add(p)


def _kv_lines(path: str, what: str) -> list[str]:
    """The lines of a docker env or label file that count: # comments and blank lines are
    skipped, leading white space too."""
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except OSError as err:
        raise CliError(f"open {path}: {err.strerror}", usage=True) from None
    out = []
    for line in lines:
        line = line.lstrip()
        if not line or line.startswith("#"):
            continue
        key = line.partition("=")[0]
        if any(ch.isspace() for ch in key):
            raise CliError(f"poorly formatted {what}: variable '{key}' contains whitespaces",
                           usage=True)
        if not key:
            raise CliError(f"poorly formatted {what}: no variable name on line '{line}'",
                           usage=True)
        out.append(line)
    return out


def from_client_env(items: list[str]) -> list[str]:
    """docker's -e KEY (and a bare KEY in an env file): the client's value, or left out when
    the client has none."""
    import os

    out = []
    for item in items:
        key, sep, _ = item.partition("=")
        if sep:
            out.append(item)
        elif key in os.environ:
            out.append(f"{key}={os.environ[key]}")
    return out


def env_files(paths: list[str]) -> list[str]:
    """docker's --env-file: KEY=VALUE lines, # comments and blank lines skipped; a bare KEY
    takes the client's value (and is left out when the client has none)."""
    return from_client_env([line for path in paths
                            for line in _kv_lines(path, "environment")])


def labels_of(items: list[str], files: list[str]) -> dict[str, str]:
    """--label-file lines, then -l (a later KEY wins); a bare KEY is an empty label."""
    labels = {}
    for item in [*(line for path in files for line in _kv_lines(path, "label file")), *items]:
        key, _, value = item.partition("=")
        labels[key] = value
    return labels


def _flag_error(value: str, flag: str, cause: str) -> CliError:
    return CliError(f'invalid argument "{value}" for "{flag}" flag: {cause}', usage=True)


_RAM_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def ram_in_bytes(text: str) -> int:
    """go-units RAMInBytes (-m): a number with an optional binary unit (k, m, g, t, p), an
    optional "i" and "b": "64m", "1.5g", "512mb", "1024"."""
    import re

    match = re.fullmatch(r"(\d+(?:\.\d+)*) ?([kmgtp])?i?b?", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"invalid size: '{text}'")
    try:
        number = float(match.group(1))
    except ValueError:
        raise ValueError(f"invalid size: '{text}'") from None
    return int(number * _RAM_UNITS[(match.group(2) or "").lower()])


def nano_cpus(text: str) -> int:
    """docker's --cpus: a rational number ("1.5", "3/2") of CPUs, in billionths."""
    from fractions import Fraction

    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise _flag_error(text, "--cpus", f"failed to parse {text} as a rational number") \
            from None
    nano = value * 1_000_000_000
    if nano.denominator != 1:
        raise _flag_error(text, "--cpus", "value is too precise")
    return int(nano)


def go_int(text: str, flag: str) -> int:
    """An integer flag value as Go's strconv.ParseInt takes it."""
    try:
        return int(text, 10)
    except ValueError:
        raise _flag_error(text, flag, f'strconv.ParseInt: parsing "{text}": invalid syntax') \
            from None


def _bytes(text: str) -> int:
    units = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    raw = text.strip().lower()
    try:
        if raw and raw[-1] in units:
            return int(float(raw[:-1]) * units[raw[-1]])
        return int(raw)
    except ValueError:
        raise CliError(f"invalid size: '{text}'", usage=True) from None


def _is_ip(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_mac(text: str) -> bool:
    parts = text.replace("-", ":").split(":")
    return len(parts) == 6 and all(len(p) == 2 and all(ch in "0123456789abcdefABCDEF"
                                                       for ch in p) for p in parts)


def network_values(args: argparse.Namespace) -> dict[str, Any]:
    """The network fields of the request, checked as docker's client checks them."""
    hosts = []
    for item in args.add_host:
        name, sep, address = item.replace("=", ":", 1).partition(":") if "=" in item \
            else item.partition(":")
        if not sep or not name or not _is_ip(address.strip("[]")):
            raise _flag_error(item, "--add-host", f'invalid IP address in add-host: "{address}"'
                              if sep and name else f'bad format for add-host: "{item}"')
        hosts.append(f"{name}:{address.strip('[]')}")
    for item in args.dns:
        if not _is_ip(item):
            raise _flag_error(item, "--dns", f"{item} is not an ip address")
    for item in args.link:
        if not item.partition(":")[0] or item.count(":") > 1:
            raise _flag_error(item, "--link", f"bad format for links: {item}")
    if args.mac_address and not _is_mac(args.mac_address):
        raise _flag_error(args.mac_address, "--mac-address",
                          f"{args.mac_address} is not a valid mac address")
    if args.publish or args.expose:  # docker's client checks them: exit 125, no daemon call
        from pyengine.errors import InvalidArgument
        from pyengine.network.portspec import parse_expose, parse_publish

        try:
            parse_publish(args.publish)
            parse_expose(args.expose)
        except InvalidArgument as err:
            raise CliError(str(err), usage=True) from None
    for flag, value in (("--ip", args.ip), ("--ip6", args.ip6),
                        *(("--link-local-ip", item) for item in args.link_local_ip)):
        if value and not _is_ip(value):
            raise _flag_error(value, flag, f"invalid string being converted to IP address: "
                              f"{value}")
    return {"network": args.network, "publish": args.publish,
            "publish_all": args.publish_all, "expose": args.expose, "ip": args.ip,
            "network_aliases": args.network_alias, "dns": args.dns,
            "dns_search": args.dns_search, "dns_options": args.dns_option,
            "add_hosts": hosts, "links": args.link, "mac_address": args.mac_address,
            "ip6": args.ip6, "link_local_ips": args.link_local_ip}


def request(args: argparse.Namespace, auto_remove: bool = False
            ) -> containers_lean.CreateContainerRequest:
    from pyengine.api import containers_lean

    if auto_remove and args.restart not in ("", "no"):
        raise CliError("Conflicting options: --restart and --rm", usage=True)
    labels = labels_of(args.label, args.label_file)
    memory = 0
    if args.memory:
        try:
            memory = ram_in_bytes(args.memory)
        except ValueError as err:
            raise _flag_error(args.memory, "-m, --memory", str(err)) from None
    cpus = nano_cpus(args.cpus) if args.cpus else 0
    pids_limit = go_int(args.pids_limit, "--pids-limit") if args.pids_limit else 0
    stop_timeout = go_int(args.stop_timeout, "--stop-timeout") \
        if args.stop_timeout is not None else None
    log_max_size, log_max_file = 0, 1
    for opt in args.log_opt if args.log_driver != "none" else ():  # none checks none
        key, _, value = opt.partition("=")
        if key == "max-size":
            log_max_size = _bytes(value)
        elif key == "max-file":
            log_max_file = int(value)
        else:
            raise CliError(f"unknown log opt '{key}' for json-file log driver", usage=True)
    if args.mount:  # docker's client parses --mount: its errors are usage errors
        from pyengine.errors import InvalidArgument
        from pyengine.volumes.mountspec import mount_fields

        for raw in args.mount:
            try:
                mount_fields(raw)
            except InvalidArgument as err:
                raise CliError(str(err), usage=True) from None
    env = [*env_files(args.env_file), *from_client_env(args.env)]
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    entrypoint = args.entrypoint
    return containers_lean.CreateContainerRequest(
        name=args.name, image=args.image, cmd=command,
        entrypoint=[entrypoint] if entrypoint else [], entrypoint_set=entrypoint is not None,
        env=env, workdir=args.workdir, user=args.user, hostname=args.hostname,
        labels=labels, tty=args.tty, memory=memory,
        nano_cpus=cpus, pids_limit=pids_limit, runtime=args.runtime,
        read_only=args.read_only, stop_signal=args.stop_signal,
        stop_timeout=stop_timeout or 0, stop_timeout_set=stop_timeout is not None,
        auto_remove=auto_remove, log_max_size=log_max_size, log_max_file=log_max_file,
        restart=args.restart, open_stdin=args.interactive, init=args.init,
        binds=args.volume, mounts=args.mount, tmpfs=args.tmpfs,
        volumes_from=args.volumes_from, **network_values(args),
        **health_opts.values(args), **namespace_values(args), **secopts_opts.values(args),
        group_add=args.group_add, device_cgroup_rules=args.device_cgroup_rule,
        log_driver=args.log_driver, volume_driver=args.volume_driver,
    )


def namespace_values(args: argparse.Namespace) -> dict[str, Any]:
    """--pid, --ipc, --uts, --cgroupns; the values docker's client refuses are refused here
    (exit 125, no daemon call) with its texts."""
    for value, flag, kind, ok in (
            (args.pid, "--pid", "PID", ("", "host")),
            (args.uts, "--uts", "UTS", ("", "host")),
            (args.cgroupns, "--cgroupns", "CGROUP", ("", "host", "private"))):
        if value not in ok and not (flag == "--pid" and value.startswith("container:")):
            raise CliError(f"{flag}: invalid {kind} mode", usage=True)
    return {"pid_mode": args.pid, "ipc_mode": args.ipc, "uts_mode": args.uts,
            "cgroupns_mode": args.cgroupns}


def create(ctx: Context, request: containers_lean.CreateContainerRequest) -> str:
    """Create; an image missing locally is pulled first (progress on stderr), as docker's
    client does. Returns the new container's id."""
    from pyengine.api import containers_lean
    from pyengine.cli.wire import status as rpc

    stub = ctx.client.lean(containers_lean.ContainersService)
    try:
        return str(stub.Create(request).id)
    except rpc.RpcError as err:
        if err.code() != rpc.NOT_FOUND or "No such image" not in (err.details()
                                                                               or ""):
            raise
    from pyengine.api import images_pb2  # the pull (and its auth) through protobuf's classes
    from pyengine.cli.progress_view import follow

    ctx.err.write(f"Unable to find image '{tagged(request.image)}' locally\n")
    final = follow(ctx.client.images.Pull(images_pb2.PullRequest(
        reference=request.image, auth=ctx.auth_for(request.image))), ctx.err, False)
    if final:
        ctx.err.write(final + "\n")
    return str(stub.Create(request).id)


def tagged(image: str) -> str:
    """The name docker's client reports for a missing image: ":latest" when it has no tag."""
    if "@" in image or ":" in image.rsplit("/", 1)[-1]:
        return image
    return image + ":latest"

"""run/create's privilege, device and kernel option flags (docker's --privileged, --cap-add,
--cap-drop, --security-opt, --device, --sysctl, --ulimit, --shm-size, --oom-score-adj)
and the request fields they make, checked as docker's client checks them."""

from __future__ import annotations

from pyengine.cli.context import CliError

TYPE_CHECKING = False  # typing and argparse are not imported on pyctl's start-up path
if TYPE_CHECKING:
    import argparse
    from typing import Any

SECCOMP_NAMES = ("builtin", "unconfined")  # the profiles the client does not read as a file


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("--privileged", action="store_true",
                   help="give extended privileges to this container")
    p.add_argument("--cap-add", action="append", default=[], help="add Linux capabilities")
    p.add_argument("--cap-drop", action="append", default=[], help="drop Linux capabilities")
    p.add_argument("--security-opt", action="append", default=[], help="security options")
    p.add_argument("--device", action="append", default=[],
                   help="add a host device to the container")
    p.add_argument("--sysctl", action="append", default=[], help="sysctl options")
    p.add_argument("--ulimit", action="append", default=[], help="ulimit options")
    p.add_argument("--shm-size", default="", help="size of /dev/shm")
    p.add_argument("--oom-score-adj", default="", help="tune host's OOM preferences "
                   "(-1000 to 1000)")


def _flag_error(value: str, flag: str, cause: object) -> CliError:
    return CliError(f'invalid argument "{value}" for "{flag}" flag: {cause}', usage=True)


def effective_caps(add: list[str], drop: list[str]) -> tuple[list[str], list[str]]:
    """docker's client: CAP_-prefixed capitals, once each; ALL trumps the others of its list;
    one both added and dropped is neither."""
    def norm(caps: list[str]) -> set[str]:
        out = set()
        for cap in caps:
            cap = cap.strip().upper()
            if cap:
                out.add(cap if cap == "ALL" or cap.startswith("CAP_") else "CAP_" + cap)
        return {"ALL"} if "ALL" in out else out

    adds, drops = norm(add), norm(drop)
    both = adds & drops
    return sorted(adds - both), sorted(drops - both)


def security_opts(items: list[str]) -> list[str]:
    """docker's client: a seccomp profile named by a file is sent as its (compact) JSON."""
    out = []
    for opt in items:
        key, sep, value = opt.partition("=")
        if not sep and key != "no-new-privileges":
            key, sep, value = opt.partition(":")
        if (not sep or not value) and key != "no-new-privileges":
            raise CliError(f'Invalid --security-opt: "{opt}"', usage=True)
        if key == "seccomp" and value not in SECCOMP_NAMES:
            import json

            try:
                with open(value, "rb") as handle:
                    text = handle.read()
            except OSError as err:
                raise CliError(f"opening seccomp profile ({value}) failed: open {value}: "
                               f"{(err.strerror or '').lower()}", usage=True) from None
            try:
                profile = json.loads(text)
            except ValueError as err:
                raise CliError(f"compacting json for seccomp profile ({value}) failed: {err}",
                               usage=True) from None
            opt = "seccomp=" + json.dumps(profile, separators=(",", ":"))
        out.append(opt)
    return out


def values(args: argparse.Namespace) -> dict[str, Any]:
    """The request's fields for these flags, or docker's client errors (exit 125)."""
    from pyengine.cli.container_opts import go_int, ram_in_bytes

    if args.sysctl or args.ulimit or args.device:  # the daemon's parsers: only when used
        from pyengine.containers.secopts import cli_sysctl, parse_device, parse_ulimit
    sysctls = {}
    for item in args.sysctl:
        try:
            name, value = cli_sysctl(item)
        except ValueError as err:
            raise _flag_error(item, "--sysctl", err) from None
        sysctls[name] = value
    ulimits = []
    for item in args.ulimit:
        try:
            ulimits.append(parse_ulimit(item).text())
        except ValueError as err:
            raise _flag_error(item, "--ulimit", err) from None
    devices = []
    for item in args.device:
        try:
            devices.append(parse_device(item).text())
        except ValueError as err:
            raise CliError(str(err), usage=True) from None
    shm_size = 0
    if args.shm_size:
        try:
            shm_size = ram_in_bytes(args.shm_size)
        except ValueError as err:
            raise _flag_error(args.shm_size, "--shm-size", err) from None
    cap_add, cap_drop = effective_caps(args.cap_add, args.cap_drop)
    return {"privileged": args.privileged, "cap_add": cap_add, "cap_drop": cap_drop,
            "security_opt": security_opts(args.security_opt), "devices": devices,
            "sysctls": sysctls, "ulimits": ulimits, "shm_size": shm_size,
            "oom_score_adj": go_int(args.oom_score_adj, "--oom-score-adj")
            if args.oom_score_adj else 0}

"""pyctl update: change the resources and restart policy of containers (docker update's
flags). A running container gets them at once; every container keeps them for later starts."""

from __future__ import annotations

import argparse

from pyengine.cli.container_each import each
from pyengine.cli.context import CliError, Context


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("containers", nargs="+", metavar="CONTAINER")
    p.add_argument("-m", "--memory", default=None, help="memory limit")
    p.add_argument("--memory-swap", default=None,
                   help="swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    p.add_argument("--cpus", default=None, help="number of CPUs")
    p.add_argument("-c", "--cpu-shares", default=None, help="CPU shares (relative weight)")
    p.add_argument("--cpu-quota", default=None, help="limit CPU CFS (Completely Fair "
                   "Scheduler) quota")
    p.add_argument("--cpu-period", default=None, help="limit CPU CFS (Completely Fair "
                   "Scheduler) period")
    p.add_argument("--cpuset-cpus", default="", help="CPUs in which to allow execution (0-3, 0,1)")
    p.add_argument("--pids-limit", default=None, help="tune container pids limit (set -1 for "
                   "unlimited)")
    p.add_argument("--restart", default="", help="restart policy to apply when a container "
                   "exits")
    p.set_defaults(func=run)


def _integer(flag: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CliError(f'invalid argument "{text}" for "{flag}" flag: strconv.ParseInt: '
                       f'parsing "{text}": invalid syntax', usage=True) from None


def _size(flag: str, text: str) -> int:
    from pyengine.units import ram_in_bytes

    if flag == "--memory-swap" and text.strip() == "-1":
        return -1
    try:
        return ram_in_bytes(text)
    except ValueError as err:
        raise CliError(f'invalid argument "{text}" for "{flag}" flag: {err}', usage=True) \
            from None


def request_of(args: argparse.Namespace, ref: str) -> object:
    from pyengine.api import containers_pb2

    r = containers_pb2.UpdateContainerRequest(id=ref, cpuset_cpus=args.cpuset_cpus,
                                              restart=args.restart)
    if args.memory is not None:
        r.memory, r.memory_set = _size("--memory", args.memory), True
    if args.memory_swap is not None:
        r.memory_swap, r.memory_swap_set = _size("--memory-swap", args.memory_swap), True
    if args.cpus is not None:
        try:
            r.nano_cpus = round(float(args.cpus) * 1e9)
        except ValueError:
            raise CliError(f'invalid argument "{args.cpus}" for "--cpus" flag: failed to '
                           f'parse {args.cpus} as a rational number', usage=True) from None
        r.nano_cpus_set = True
    for flag, name in (("--cpu-shares", "cpu_shares"), ("--cpu-quota", "cpu_quota"),
                       ("--cpu-period", "cpu_period"), ("--pids-limit", "pids_limit")):
        text = getattr(args, name)
        if text is not None:
            setattr(r, name, _integer(flag, text))
            setattr(r, f"{name}_set", True)
    return r


def run(ctx: Context, args: argparse.Namespace) -> int:
    flags = ("memory", "memory_swap", "cpus", "cpu_shares", "cpu_quota", "cpu_period",
             "pids_limit")
    if all(getattr(args, f) is None for f in flags) and not args.cpuset_cpus and \
            not args.restart:
        raise CliError("you must provide one or more flags when using this command",
                       prefix="")  # docker prints it bare, exit 1
    requests = {ref: request_of(args, ref) for ref in args.containers}
    return each(ctx, args.containers,
                lambda ref: ctx.client.containers.Update(requests[ref]))

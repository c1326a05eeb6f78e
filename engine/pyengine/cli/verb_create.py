"""pyctl create: create a container from an image (pulled when missing, as docker does); a
daemon error exits 125, as docker's create does."""

from __future__ import annotations

import argparse

from pyengine.cli import container_opts
from pyengine.cli.context import Context


def add(p: argparse.ArgumentParser) -> None:
    container_opts.add(p)
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    from pyengine.cli.wire import status as rpc

    request = container_opts.request(args)
    try:
        cid = container_opts.create(ctx, request)
    except rpc.RpcError as err:
        if ctx.is_connect_error(err):
            raise
        ctx.err.write(f"Error response from daemon: {err.details()}\n")
        return 125
    ctx.out.write(cid + "\n")
    return 0

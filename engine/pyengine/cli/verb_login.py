"""pyctl login: log in to a registry."""

from __future__ import annotations

import getpass
import sys

from pyengine.api import common_pb2, system_pb2
from pyengine.cli.context import CliError, Context
from pyengine.cli.credentials import DOCKER_HUB_KEY, server_key

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", nargs="?", default="", metavar="SERVER")
    p.add_argument("-u", "--username", default="", help="username")
    p.add_argument("-p", "--password", default="", help="password (insecure: use --password-stdin)")
    p.add_argument("--password-stdin", action="store_true", help="take the password from stdin")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    server = args.server or DOCKER_HUB_KEY
    username, password = args.username, args.password
    if args.password and args.password_stdin:
        raise CliError("--password and --password-stdin are mutually exclusive", usage=True)
    if args.password:
        ctx.err.write("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n")
    if args.password_stdin:
        if not username:
            raise CliError("Must provide --username with --password-stdin", usage=True)
        password = sys.stdin.read().rstrip("\r\n")
    if not username or not password:
        if not sys.stdin.isatty():
            raise CliError("Cannot perform an interactive login from a non TTY device")
        if not username:
            ctx.out.write("Username: ")
            ctx.out.flush()
            username = sys.stdin.readline().strip()
        if not password:
            password = getpass.getpass("Password: ")
    if not username:
        raise CliError("Username is required")
    if not password:
        raise CliError("Password is required")
    host = server_key(server)
    response = ctx.client.system.Login(system_pb2.LoginRequest(auth=common_pb2.RegistryAuth(
        server_address="docker.io" if host == DOCKER_HUB_KEY else host,
        username=username, password=password,
    )))
    ctx.credentials.put(server, username, password, response.identity_token)
    ctx.out.write(f"{response.status or 'Login Succeeded'}\n")
    return 0

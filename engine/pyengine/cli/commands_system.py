"""System verbs of pyctl: version, info, system df, login, logout."""

from __future__ import annotations

import argparse
import getpass
import sys

from pyengine import __version__
from pyengine.api import common_pb2, system_pb2
from pyengine.cli.context import CliError, Context
from pyengine.cli.credentials import DOCKER_HUB_KEY, server_key
from pyengine.cli.output import write_rows
from pyengine.cli.units import human_size, since


def add_version(p: argparse.ArgumentParser) -> None:
    p.set_defaults(func=version)


def version(ctx: Context, args: argparse.Namespace) -> int:
    ctx.out.write(f"Client:\n Version:\t{__version__}\n API version:\tpyengine.v1\n\n")
    v = ctx.client.system.Version(system_pb2.VersionRequest())
    ctx.out.write(
        f"Server:\n Engine:\n  Version:\t{v.version}\n  API version:\t{v.api_version}\n"
        f"  OS/Arch:\t{v.os}/{v.arch}\n  Kernel:\t{v.kernel_version}\n"
        f"  Python:\t{v.python_version}\n"
    )
    return 0


def add_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="", help="Go template")
    p.set_defaults(func=info)


def info(ctx: Context, args: argparse.Namespace) -> int:
    i = ctx.client.system.Info(system_pb2.InfoRequest())
    doc = {
        "Images": i.images, "ServerVersion": i.version, "Driver": i.storage_driver,
        "DockerRootDir": i.data_root, "ExecRoot": i.exec_root, "DefaultRuntime": i.default_runtime,
        "KernelVersion": i.kernel_version, "OperatingSystem": i.os, "Architecture": i.architecture,
        "NCPU": i.ncpu, "MemTotal": i.mem_total, "Name": i.name, "LoggingLevel": i.log_level,
        "InsecureRegistries": list(i.insecure_registries),
        "RegistryMirrors": list(i.registry_mirrors),
    }
    if args.format:
        write_rows(ctx.out, [doc], args.format, "")
        return 0
    lines = [
        "Server:", f" Images: {i.images}", f" Server Version: {i.version}",
        f" Storage Driver: {i.storage_driver}", f" Default Runtime: {i.default_runtime}",
        f" Kernel Version: {i.kernel_version}", f" Operating System: {i.os}",
        f" Architecture: {i.architecture}", f" CPUs: {i.ncpu}",
        f" Total Memory: {human_size(i.mem_total)}", f" Name: {i.name}",
        f" Docker Root Dir: {i.data_root}", f" Exec Root: {i.exec_root}",
        f" Log Level: {i.log_level}",
    ]
    if i.insecure_registries:
        lines.append(" Insecure Registries:")
        lines += [f"  {r}" for r in i.insecure_registries]
    if i.registry_mirrors:
        lines.append(" Registry Mirrors:")
        lines += [f"  {r}" for r in i.registry_mirrors]
    ctx.out.write("\n".join(lines) + "\n")
    return 0


def add_df(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="store_true", help="show detailed information")
    p.add_argument("--format", default="", help="table, json, or a Go template")
    p.set_defaults(func=df)


def _percent(part: int, whole: int) -> str:
    return f"{human_size(part)} ({int(100 * part / whole) if whole else 0}%)"


def df(ctx: Context, args: argparse.Namespace) -> int:
    usage = ctx.client.system.DiskUsage(system_pb2.DiskUsageRequest())
    images_size = usage.layers_size
    rows = [
        {"Type": "Images", "TotalCount": str(len(usage.images)), "Active": "0",
         "Size": human_size(images_size), "Reclaimable": _percent(images_size, images_size)},
        {"Type": "Containers", "TotalCount": "0", "Active": "0", "Size": "0B",
         "Reclaimable": "0B"},
        {"Type": "Local Volumes", "TotalCount": "0", "Active": "0", "Size": "0B",
         "Reclaimable": "0B"},
        {"Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": "0B",
         "Reclaimable": "0B"},
        {"Type": "Content Store", "TotalCount": "", "Active": "",
         "Size": human_size(usage.content_size),
         "Reclaimable": human_size(usage.content_size)},
    ]
    write_rows(ctx.out, rows, args.format,
               "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}")
    if args.verbose and not args.format:
        ctx.out.write("\nImages space usage:\n\n")
        image_rows = []
        for img in usage.images:
            for tag in list(img.repo_tags) or ["<none>:<none>"]:
                repo, _, tag_part = tag.rpartition(":")
                image_rows.append({
                    "Repository": repo, "Tag": tag_part, "ID": img.id.split(":", 1)[-1][:12],
                    "CreatedSince": since(img.created), "Size": human_size(img.size),
                    "SharedSize": human_size(img.shared_size),
                    "UniqueSize": human_size(img.size - img.shared_size),
                    "Containers": str(img.containers),
                })
        write_rows(ctx.out, image_rows, "",
                   "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                   "\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}")
    return 0


def add_login(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", nargs="?", default="", metavar="SERVER")
    p.add_argument("-u", "--username", default="", help="username")
    p.add_argument("-p", "--password", default="", help="password (insecure: use --password-stdin)")
    p.add_argument("--password-stdin", action="store_true", help="take the password from stdin")
    p.set_defaults(func=login)


def login(ctx: Context, args: argparse.Namespace) -> int:
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


def add_logout(p: argparse.ArgumentParser) -> None:
    p.add_argument("server", nargs="?", default="", metavar="SERVER")
    p.set_defaults(func=logout)


def logout(ctx: Context, args: argparse.Namespace) -> int:
    server = args.server or DOCKER_HUB_KEY
    if not ctx.credentials.remove(server):
        ctx.out.write(f"Not logged in to {server_key(server)}\n")
        return 0
    ctx.out.write(f"Removing login credentials for {server_key(server)}\n")
    return 0

"""pyctl info: system-wide information."""

from __future__ import annotations

from pyengine.api import system_pb2
from pyengine.cli.context import Context
from pyengine.cli.output import write_rows
from pyengine.units import human_size

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="", help="Go template")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
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

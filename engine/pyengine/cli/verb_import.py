"""pyctl import: import a rootfs tarball as an image."""

from __future__ import annotations

from collections.abc import Iterator

from pyengine.api import images_pb2
from pyengine.cli.context import CliError, Context
from pyengine.cli.inputs import open_input, platform, read_chunks

TYPE_CHECKING = False  # argparse is imported only for help and usage errors
if TYPE_CHECKING:
    import argparse


def add(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="file|-")
    p.add_argument("reference", nargs="?", default="", metavar="REPOSITORY[:TAG]")
    p.add_argument("-c", "--change", action="append", default=[],
                   help="apply a Dockerfile instruction (CMD, ENV, ENTRYPOINT, WORKDIR...)")
    p.add_argument("-m", "--message", default="", help="commit message for the image")
    p.add_argument("--platform", default="", help="os/arch[/variant] recorded in the image")
    p.set_defaults(func=run)


def run(ctx: Context, args: argparse.Namespace) -> int:
    if args.file.startswith(("http://", "https://")):
        raise CliError("import from a URL is not supported; download the file first")
    open_input(args.file)

    def requests() -> Iterator[images_pb2.ImportImageRequest]:
        yield images_pb2.ImportImageRequest(header=images_pb2.ImportHeader(
            reference=args.reference, changes=args.change, message=args.message,
            platform=platform(args.platform),
        ))
        for chunk in read_chunks(args.file):
            yield images_pb2.ImportImageRequest(data=chunk)

    response = ctx.client.images.Import(requests())
    ctx.out.write(response.id + "\n")
    return 0

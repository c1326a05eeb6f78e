"""Image verbs of pyctl: pull, push, images, rmi, tag, inspect, history, save, load, import,
search, image prune."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

from pyengine.api import common_pb2, images_pb2
from pyengine.cli.context import CliError, Context
from pyengine.cli.output import write_rows
from pyengine.cli.progress_view import ProgressView
from pyengine.cli.template import TemplateError, compile_template
from pyengine.cli.units import created_at, human_size, since

CHUNK = 1 << 20


def _platform(text: str) -> common_pb2.Platform:
    if not text:
        return common_pb2.Platform()
    parts = text.split("/")
    return common_pb2.Platform(
        os=parts[0], architecture=parts[1] if len(parts) > 1 else "",
        variant=parts[2] if len(parts) > 2 else "",
    )


def _has_tag_or_digest(text: str) -> bool:
    return "@" in text or ":" in text.rsplit("/", 1)[-1]


# -- pull / push --------------------------------------------------------------------------------

def add_pull(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME[:TAG|@DIGEST]")
    p.add_argument("--platform", default="", help="os/arch[/variant] to select")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    p.set_defaults(func=pull)


def pull(ctx: Context, args: argparse.Namespace) -> int:
    if not _has_tag_or_digest(args.name) and not args.quiet:
        ctx.out.write("Using default tag: latest\n")
    request = images_pb2.PullRequest(
        reference=args.name, platform=_platform(args.platform), auth=ctx.auth_for(args.name)
    )
    view = ProgressView(ctx.out, ctx.out.isatty())
    final = ""
    for msg in ctx.client.images.Pull(request):
        if msg.result:
            final = msg.result
            continue
        if not args.quiet:
            view.update(msg.id, msg.status, msg.current, msg.total)
    if final:
        ctx.out.write(final + "\n")
    return 0


def add_push(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", metavar="NAME[:TAG]")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    p.set_defaults(func=push)


def push(ctx: Context, args: argparse.Namespace) -> int:
    request = images_pb2.PushRequest(reference=args.name, auth=ctx.auth_for(args.name))
    view = ProgressView(ctx.out, ctx.out.isatty())
    digest = ""
    for msg in ctx.client.images.Push(request):
        if msg.result:
            digest = msg.result
            continue
        if not args.quiet:
            view.update(msg.id, msg.status, msg.current, msg.total)
    if args.quiet:
        ctx.out.write(f"{args.name}\n" if digest else "")
    return 0


# -- images ------------------------------------------------------------------------------------

def add_images(p: argparse.ArgumentParser) -> None:
    p.add_argument("repository", nargs="?", default="", metavar="REPOSITORY[:TAG]")
    p.add_argument("-a", "--all", action="store_true", help="show all images")
    p.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    p.add_argument("--digests", action="store_true", help="show digests")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.add_argument("-f", "--filter", action="append", default=[],
                   help="filter: dangling=true|false, reference=PATTERN")
    p.add_argument("--format", default="", help="table, json, or a Go template")
    p.set_defaults(func=images)


def _image_row(img: images_pb2.ImageSummary, no_trunc: bool) -> dict:
    size = human_size(img.size)
    return {
        "Containers": "N/A",
        "CreatedAt": created_at(img.created),
        "CreatedSince": since(img.created),
        "Digest": img.digest or "<none>",
        "ID": img.id if no_trunc else img.id.split(":", 1)[-1][:12],
        "Repository": img.repository or "<none>",
        "SharedSize": "N/A",
        "Size": size,
        "Tag": img.tag or "<none>",
        "UniqueSize": "N/A",
        "VirtualSize": size,
    }


def images(ctx: Context, args: argparse.Namespace) -> int:
    request = images_pb2.ListImagesRequest(all=args.all, reference_filter=args.repository)
    for spec in args.filter:
        key, _, value = spec.partition("=")
        if key == "dangling":
            if value not in ("true", "false", "1", "0"):
                raise CliError(f"invalid filter 'dangling={value}'", usage=True)
            request.dangling = value in ("true", "1")
        elif key == "reference":
            request.reference_filter = value
        else:
            raise CliError(f"invalid filter '{key}'", usage=True)
    response = ctx.client.images.List(request)
    rows = [_image_row(img, args.no_trunc) for img in response.images]
    if args.quiet:
        seen = []
        for row in rows:
            if row["ID"] not in seen:
                seen.append(row["ID"])
        ctx.out.write("".join(f"{i}\n" for i in seen))
        return 0
    default = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    if args.digests:
        default = ("table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}"
                   "\t{{.Size}}")
    write_rows(ctx.out, rows, args.format, default)
    return 0


# -- rmi / tag ---------------------------------------------------------------------------------

def add_rmi(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--force", action="store_true", help="force removal")
    p.add_argument("--no-prune", action="store_true", help="do not delete untagged parents")
    p.set_defaults(func=rmi)


def rmi(ctx: Context, args: argparse.Namespace) -> int:
    import grpc

    status = 0
    for name in args.images:
        try:
            response = ctx.client.images.Remove(
                images_pb2.RemoveImageRequest(reference=name, force=args.force,
                                              no_prune=args.no_prune)
            )
        except grpc.RpcError as err:
            if ctx.is_connect_error(err):
                raise
            ctx.err.write(f"Error response from daemon: {err.details()}\n")
            status = 1
            continue
        for item in response.items:
            if item.untagged:
                ctx.out.write(f"Untagged: {item.untagged}\n")
            if item.deleted:
                ctx.out.write(f"Deleted: {item.deleted}\n")
    return status


def add_tag(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    p.add_argument("target", metavar="TARGET_IMAGE[:TAG]")
    p.set_defaults(func=tag)


def tag(ctx: Context, args: argparse.Namespace) -> int:
    ctx.client.images.Tag(images_pb2.TagImageRequest(source=args.source, target=args.target))
    return 0


# -- inspect / history -------------------------------------------------------------------------

def add_inspect(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-f", "--format", default="", help="Go template for each object")
    p.set_defaults(func=inspect)


def inspect(ctx: Context, args: argparse.Namespace) -> int:
    import grpc

    template = None
    if args.format and args.format != "json":
        try:
            template = compile_template(args.format)
        except TemplateError as err:
            raise CliError(f"template parsing error: {err}") from err
    docs, errors = [], []
    for name in args.images:
        try:
            response = ctx.client.images.Inspect(images_pb2.InspectImageRequest(reference=name))
        except grpc.RpcError as err:
            if ctx.is_connect_error(err):
                raise
            errors.append(err.details())
            continue
        docs.append(json.loads(response.json))
    if template is not None:
        for doc in docs:
            try:
                ctx.out.write(template.render(doc) + "\n")
            except TemplateError as err:
                raise CliError(str(err)) from err
    elif args.format == "json":
        for doc in docs:
            ctx.out.write(json.dumps(doc) + "\n")
    else:
        ctx.out.write(json.dumps(docs, indent=4) + "\n")
    for message in errors:
        ctx.err.write(f"Error response from daemon: {message}\n")
    return 1 if errors else 0


def add_history(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("-H", "--human", default="true", nargs="?", const="true",
                   help="print sizes and dates in human readable format (default true)")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    p.add_argument("--format", default="", help="table, json, or a Go template")
    p.set_defaults(func=history)


def history(ctx: Context, args: argparse.Namespace) -> int:
    response = ctx.client.images.History(images_pb2.ImageHistoryRequest(reference=args.image))
    human = str(args.human).lower() not in ("false", "0")
    rows = []
    for entry in response.entries:
        ident = entry.id
        if ident.startswith("sha256:") and not args.no_trunc:
            ident = ident.split(":", 1)[1][:12]
        created_by = entry.created_by.replace("\t", " ").replace("\n", " ")
        if not args.no_trunc and len(created_by) > 45:
            created_by = created_by[:44] + "…"
        rows.append({
            "ID": ident,
            "CreatedSince": since(entry.created) if human else created_at(entry.created),
            "CreatedAt": created_at(entry.created),
            "CreatedBy": created_by,
            "Size": human_size(entry.size) if human else str(entry.size),
            "Comment": entry.comment,
        })
    if args.quiet:
        ctx.out.write("".join(f"{r['ID']}\n" for r in rows))
        return 0
    write_rows(ctx.out, rows, args.format,
               "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
               headers={"ID": "IMAGE"})
    return 0


# -- save / load / import ----------------------------------------------------------------------

def add_save(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-o", "--output", default="", help="write to a file instead of stdout")
    p.add_argument("--format", default="docker", choices=("docker", "oci"),
                   help="archive format (default docker)")
    p.set_defaults(func=save)


def save(ctx: Context, args: argparse.Namespace) -> int:
    if not args.output and sys.stdout.isatty():
        raise CliError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    stream = ctx.client.images.Save(
        images_pb2.SaveImagesRequest(references=args.images, format=args.format)
    )
    if args.output:
        import os

        tmp = args.output + ".pyctl-tmp"
        try:
            with open(tmp, "wb") as out:
                for chunk in stream:
                    out.write(chunk.data)
            os.replace(tmp, args.output)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    else:
        stdout = sys.stdout.buffer
        for chunk in stream:
            stdout.write(chunk.data)
        stdout.flush()
    return 0


def _read_chunks(path: str) -> Iterator[bytes]:
    handle = sys.stdin.buffer if path in ("", "-") else open(path, "rb")  # noqa: SIM115
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _open_input(path: str) -> None:
    if path not in ("", "-"):
        try:
            open(path, "rb").close()
        except OSError as err:
            raise CliError(f"open {path}: {err.strerror}") from err


def add_load(p: argparse.ArgumentParser) -> None:
    p.add_argument("-i", "--input", default="", help="read from a tar archive file")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress the load output")
    p.set_defaults(func=load)


def load(ctx: Context, args: argparse.Namespace) -> int:
    if not args.input and sys.stdin.isatty():
        raise CliError("requested load from stdin, but stdin is empty")
    _open_input(args.input)

    def requests() -> Iterator[images_pb2.LoadImagesRequest]:
        yield images_pb2.LoadImagesRequest(options=images_pb2.LoadOptions(quiet=args.quiet))
        for chunk in _read_chunks(args.input):
            yield images_pb2.LoadImagesRequest(data=chunk)

    response = ctx.client.images.Load(requests())
    for name in response.loaded:
        if name.startswith("sha256:"):
            ctx.out.write(f"Loaded image ID: {name}\n")
        else:
            ctx.out.write(f"Loaded image: {name}\n")
    return 0


def add_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="file|-")
    p.add_argument("reference", nargs="?", default="", metavar="REPOSITORY[:TAG]")
    p.add_argument("-c", "--change", action="append", default=[],
                   help="apply a Dockerfile instruction (CMD, ENV, ENTRYPOINT, WORKDIR...)")
    p.add_argument("-m", "--message", default="", help="commit message for the image")
    p.add_argument("--platform", default="", help="os/arch[/variant] recorded in the image")
    p.set_defaults(func=import_)


def import_(ctx: Context, args: argparse.Namespace) -> int:
    if args.file.startswith(("http://", "https://")):
        raise CliError("import from a URL is not supported; download the file first")
    _open_input(args.file)

    def requests() -> Iterator[images_pb2.ImportImageRequest]:
        yield images_pb2.ImportImageRequest(header=images_pb2.ImportHeader(
            reference=args.reference, changes=args.change, message=args.message,
            platform=_platform(args.platform),
        ))
        for chunk in _read_chunks(args.file):
            yield images_pb2.ImportImageRequest(data=chunk)

    response = ctx.client.images.Import(requests())
    ctx.out.write(response.id + "\n")
    return 0


# -- search / prune ----------------------------------------------------------------------------

def add_search(p: argparse.ArgumentParser) -> None:
    p.add_argument("term", metavar="[REGISTRY/]TERM")
    p.add_argument("--limit", type=int, default=25, help="maximum number of results")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.add_argument("--format", default="", help="table, json, or a Go template")
    p.set_defaults(func=search)


def search(ctx: Context, args: argparse.Namespace) -> int:
    host = args.term.split("/", 1)[0] if "/" in args.term else ""
    response = ctx.client.images.Search(images_pb2.SearchImagesRequest(
        term=args.term, limit=args.limit, auth=ctx.auth_for_host(host) if host else None,
    ))
    rows = [{"Name": r.name, "Description": r.description, "StarCount": str(r.star_count),
             "IsOfficial": "[OK]" if r.is_official else ""} for r in response.results]
    write_rows(ctx.out, rows, args.format,
               "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}")
    return 0


def add_prune(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--all", action="store_true", help="remove all unused images")
    p.add_argument("-f", "--force", action="store_true", help="do not prompt for confirmation")
    p.set_defaults(func=prune)


def prune(ctx: Context, args: argparse.Namespace) -> int:
    if not args.force:
        warning = ("WARNING! This will remove all images without at least one container "
                   "associated to them." if args.all else
                   "WARNING! This will remove all dangling images.")
        ctx.out.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
        ctx.out.flush()
        answer = sys.stdin.readline().strip().lower()
        if answer not in ("y", "yes"):
            return 0
    response = ctx.client.images.Prune(images_pb2.PruneImagesRequest(all=args.all))
    if response.items:
        ctx.out.write("Deleted Images:\n")
        for item in response.items:
            if item.untagged:
                ctx.out.write(f"untagged: {item.untagged}\n")
            if item.deleted:
                ctx.out.write(f"deleted: {item.deleted}\n")
        ctx.out.write("\n")
    ctx.out.write(f"Total reclaimed space: {human_size(response.space_reclaimed)}\n")
    return 0

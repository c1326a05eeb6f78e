"""The image service: pull, push, names, removal, inspection and garbage collection.

It composes the registry client, the content store, the snapshotter and the metadata store;
the gRPC edge is a thin layer over it. Transfers hold the GC lock in shared mode and a lease
in the metadata store; a lease left over by a crash makes the next start collect garbage.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pyengine import archive
from pyengine.config import DaemonConfig
from pyengine.errors import DataLoss, FailedPrecondition, InvalidArgument, NotFound
from pyengine.gc import Collector, GcResult, ImageUse, Roots
from pyengine.images import naming
from pyengine.images.ingest import Ingest
from pyengine.images.roots import image_roots
from pyengine.images.unpack import LayerRef, Unpacker
from pyengine.progress import Cancelled, ProgressChannel
from pyengine.store import (
    BlobSourceRepository,
    ImageRecord,
    ImageRepository,
    LeaseRepository,
    NameRecord,
)

if TYPE_CHECKING:  # the registry client and inspect are imported when a call needs them
    from io import BufferedIOBase
    from pathlib import Path

    from pyengine.content import ContentStore
    from pyengine.images.archive_in import LoadResult
    from pyengine.images.commit import NewLayer
    from pyengine.images.importer import ImportOptions
    from pyengine.images.inspect import HistoryRow
    from pyengine.reference import Reference
    from pyengine.registry import PullResult, RegistryClient
    from pyengine.registry.descriptor import Platform
    from pyengine.registry.listing import SearchResult
    from pyengine.registry.progress import ProgressEvent
    from pyengine.snapshots import Snapshotter

log = logging.getLogger("pyengine.images")


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials the client sent for one call (never stored by the daemon)."""

    server_address: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    identity_token: str = field(default="", repr=False)

    def matches(self, host: str) -> bool:
        wanted = self.server_address.removeprefix("https://").removeprefix("http://")
        wanted = wanted.split("/", 1)[0]
        if wanted in ("", "index.docker.io", "registry-1.docker.io", "docker.io"):
            return wanted == "" or host in ("docker.io", "index.docker.io", "registry-1.docker.io")
        return wanted == host


@dataclass(frozen=True)
class RemoveItem:
    untagged: str = ""
    deleted: str = ""


@dataclass(frozen=True)
class ImageRow:
    """One row of `images`: an image under one of its names (or none)."""

    image: ImageRecord
    repository: str
    tag: str
    digest: str
    repo_tags: list[str]
    repo_digests: list[str]


@dataclass(frozen=True)
class ImageUsage:
    """One image's line of `system df -v`."""

    id: str
    repo_tags: list[str]
    created: str  # RFC 3339, as in the image config
    size: int
    shared_size: int  # bytes of its layers that other images use too


@dataclass(frozen=True)
class DiskUsage:
    """What `system df` reports: per-image sizes and the stores' totals."""

    images: list[ImageUsage]
    layers_size: int
    content_size: int
    reclaimable: int
    unreferenced_blobs: int
    unreferenced_snapshots: int


class ImageService:
    """Local images and registry transfers."""

    name = "images"

    def __init__(
        self,
        config: DaemonConfig,
        repo: ImageRepository,
        leases: LeaseRepository,
        content: ContentStore,
        snapshotter: Snapshotter,
        collector: Collector,
        publish: Publish | None = None,
    ) -> None:
        self.config = config
        self.publish: Publish = publish or _no_events
        self.repo = repo
        self.content = content
        self.collector = collector
        self.tmp_dir = config.data_root / "tmp"
        self.unpacker = Unpacker(
            content,
            snapshotter,
            repo,
            leases,
            whiteouts="overlay" if config.storage_driver == "overlay" else "remove",
            limits=archive.Limits(
                max_bytes=config.max_layer_size, max_files=config.max_layer_files
            ),
        )
        self.ingest = Ingest(content, repo, leases, self.unpacker, collector.lock, self.tmp_dir)
        self.sources = BlobSourceRepository(repo.db)

    # -- the domain's life cycle ------------------------------------------------------------

    def open(self) -> None:
        self.tmp_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.collector.register(self.name, self.roots)
        self.collector.on_blobs_deleted(self.name, self.sources.forget_blobs)

    def recover(self) -> None:
        """At start-up: drop the uploads an interrupted load or import spooled."""
        for leftover in self.tmp_dir.iterdir():
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)

    def close(self) -> None:
        self.collector.unregister(self.name)

    def roots(self) -> Roots:
        return image_roots(self.repo)

    def transfer(self, purpose: str) -> AbstractContextManager[str]:
        """Shared GC lock plus a lease for the duration of a transfer."""
        return self.ingest.transfer(purpose)

    def collect_garbage(self) -> GcResult:
        return self.collector.collect()

    # -- registry ---------------------------------------------------------------------------

    def registry_client(self, auth: RegistryAuth | None) -> RegistryClient:
        from pyengine.registry import RegistryClient, RegistryConfig

        def credentials(host: str) -> tuple[str, str] | None:
            if auth is None or not auth.matches(host):
                return None
            if auth.identity_token:
                return ("<token>", auth.identity_token)
            if auth.username:
                return (auth.username, auth.password)
            return None

        mirrors: dict[str, list[str]] = {}
        if self.config.registry_mirrors:
            mirrors = {"docker.io": list(self.config.registry_mirrors)}
        return RegistryClient(
            RegistryConfig(
                insecure_registries=list(self.config.insecure_registries),
                mirrors=mirrors,
                certs_dir=self.config.certs_dir,
                credentials=credentials,
            )
        )

    # -- pull -------------------------------------------------------------------------------

    def pull(
        self,
        reference: str,
        channel: ProgressChannel,
        *,
        platform: str = "",
        auth: RegistryAuth | None = None,
    ) -> str:
        """Pull and unpack an image; return its fully qualified name."""
        from pyengine.registry.descriptor import Platform, parse_manifest

        ref = naming.parse(reference)
        wanted = None
        if platform:
            try:
                wanted = Platform.parse(platform)
            except ValueError as err:
                raise InvalidArgument(str(err)) from err
        repo = naming.repository(ref)
        shown = ref.digest or ref.tag or "latest"
        channel.report("", f"{shown}: Pulling from {ref.path}")
        with self.transfer(f"pull {ref}") as lease_id, self.registry_client(auth) as client:
            resolved = client.resolve(ref, wanted)
            manifest = parse_manifest(
                resolved.manifest_bytes, resolved.media_type, f"manifest of {ref.familiar()}"
            )
            top_digest = resolved.top_digest
            layers = [LayerRef(str(d.digest), d.media_type, int(d.size)) for d in manifest.layers]
            blobs = [resolved.descriptor.digest, str(manifest.config.digest)]
            blobs += [layer.digest for layer in layers]
            if resolved.index is not None:
                blobs.append(resolved.index.digest)
            self.ingest.protect(lease_id, blobs)
            download = _Download(self, client, ref.with_digest(top_digest), wanted, channel)
            try:
                download.wait_for(str(manifest.config.digest))
                unpacked = self.unpacker.unpack(
                    str(manifest.config.digest), layers, lease_id, channel,
                    ready=lambda layer: download.wait_for(layer.digest),
                )
                result = download.result()
            finally:
                download.stop()
            if result.manifest_digest != resolved.descriptor.digest:
                raise DataLoss(
                    f"pull {ref.familiar()}: manifest changed during the pull "
                    f"({resolved.descriptor.digest} then {result.manifest_digest})"
                )
            names = [(naming.digest_name(repo, top_digest), "digest")]
            if not ref.digest:
                names.insert(0, (naming.tag_name(ref), "tag"))
            existing = self.repo.name(names[0][0])
            record = self.ingest.record(
                result.config_digest, result.manifest_digest, result.index_digest, unpacked,
                blobs, names,
            )
            self.sources.add(ref.domain, ref.path, blobs)
        channel.report("", f"Digest: {top_digest}")
        familiar = naming.familiar(names[0][0])
        if existing is not None and existing.image_id == record.id:
            channel.report("", f"Status: Image is up to date for {familiar}")
        else:
            channel.report("", f"Status: Downloaded newer image for {familiar}")
        self.publish("image", "pull", familiar, name=_repository_of(familiar))
        return names[0][0]

    # -- push -------------------------------------------------------------------------------

    def push(
        self, reference: str, channel: ProgressChannel, *, auth: RegistryAuth | None = None
    ) -> str:
        """Push a named image; return the manifest digest pushed."""
        ref = naming.parse(reference)
        if ref.digest:
            raise InvalidArgument(f"cannot push a digest reference: {reference}")
        name = naming.tag_name(ref)
        record = self.repo.name(name)
        if record is None:
            raise NotFound(f"An image does not exist locally with the tag: {naming.familiar(name)}")
        image = self.repo.image(record.image_id)
        channel.report("", f"The push refers to repository [{naming.repository(ref)}]")
        def progress(event: ProgressEvent) -> None:
            channel.report(event.id, event.action, event.current, event.total)

        # other repositories of the same registry known to hold this image: offer mounts
        mount_from: list[str] = []
        for other in self.repo.names(image.id):
            other_repo = naming.split_name(other.name)[0]
            domain, _, path = other_repo.partition("/")
            if domain == ref.domain and path != ref.path and path not in mount_from:
                mount_from.append(path)
        known = _KnownSources(self.sources, ref.domain)
        with self.collector.lock.shared(), self.registry_client(auth) as client:
            pushed = client.push(
                ref, self.content, image.manifest_digest, progress=progress,
                mount_from=mount_from, sources=known,
                max_workers=max(1, self.config.max_concurrent_uploads),
            )
        self.sources.add(ref.domain, ref.path, pushed.blobs)
        size = self.content.info(image.manifest_digest).size
        channel.report("", f"{ref.tag or 'latest'}: digest: {image.manifest_digest} size: {size}")
        self.repo.add_names(image.id, [(naming.digest_name(naming.repository(ref),
                                                            image.manifest_digest), "digest")])
        self.publish("image", "push", naming.familiar(name),
                     name=_repository_of(naming.familiar(name)))
        return image.manifest_digest

    def repository_tags(self, text: str) -> list[str]:
        """Every local tag of `text`'s repository (familiar names): what a push without a tag
        sends, as dockerd does."""
        repo = naming.repository(naming.parse(text))
        return sorted(naming.familiar(n.name) for n in self.repo.names()
                      if n.kind == "tag" and naming.split_name(n.name)[0] == repo)

    # -- local names ------------------------------------------------------------------------

    def resolve_local(self, text: str) -> ImageRecord:
        """Find a local image by name, full ID or unique ID prefix."""
        hex_part = naming.looks_like_id(text)
        if hex_part is not None:
            matches = self.repo.image_ids_with_prefix(hex_part)
            if len(matches) == 1:
                return self.repo.image(matches[0])
            if len(matches) > 1 and len(hex_part) < 64:
                raise InvalidArgument(f"image ID prefix {text!r} is ambiguous")
        try:
            ref = naming.parse(text)
        except InvalidArgument:
            if hex_part is not None:
                raise NotFound(f"No such image: {text}") from None
            raise
        if ref.digest:
            name = naming.digest_name(naming.repository(ref), ref.digest)
        else:
            name = naming.tag_name(ref)
        record = self.repo.name(name)
        if record is None:
            raise NotFound(f"No such image: {naming.familiar(name)}")
        return self.repo.image(record.image_id)

    def tag(self, source: str, target: str) -> str:
        image = self.resolve_local(source)
        ref = naming.parse(target)
        if ref.digest:
            raise InvalidArgument(f"refusing to create a tag with a digest reference: {target}")
        name = naming.tag_name(ref)
        self.repo.add_names(image.id, [(name, "tag")])
        self.publish("image", "tag", image.id, name=naming.familiar(name))
        return name

    def remove(self, text: str, *, force: bool = False) -> list[RemoveItem]:
        image_id = self.resolve_local(text).id
        items = self._remove(text, force=force)
        self._published(image_id, items)
        return items

    def _published(self, image_id: str, items: list[RemoveItem]) -> None:
        for item in items:
            if item.untagged:
                self.publish("image", "untag", image_id, name=item.untagged)
            if item.deleted:
                self.publish("image", "delete", item.deleted)

    def _remove(self, text: str, *, force: bool = False) -> list[RemoveItem]:
        """docker rmi: untag a name; delete the image once no tag references it and nothing
        (a container) uses it. An image in use is refused unless forced, and then only
        untagged; one a running container uses cannot be deleted by ID even when forced."""
        image = self.resolve_local(text)
        names = self.repo.names(image.id)
        name = self.name_for(text)
        by_id = name is None or not any(n.name == name for n in names)
        users = self.collector.image_users(image.id)
        short = naming.short_id(image.id)
        items: list[RemoveItem] = []
        if by_id:
            repos = {naming.split_name(n.name)[0] for n in names if n.kind == "tag"}
            if len(repos) > 1 and not force:
                raise FailedPrecondition(
                    f"conflict: unable to delete {short} (must be forced) - "
                    "image is referenced in multiple repositories"
                )
            running = [u for u in users if u.running]
            if running:
                raise FailedPrecondition(
                    f"conflict: unable to delete {short} (cannot be forced) - image is being "
                    f"used by running container {_short_holder(running[0])}"
                )
            if users and not force:
                raise FailedPrecondition(
                    f"conflict: unable to delete {short} (must be forced) - image is being "
                    f"used by stopped container {_short_holder(users[0])}"
                )
        else:
            assert name is not None
            remaining = [n for n in names if n.name != name]
            last_tag = not any(n.kind == "tag" for n in remaining)
            if last_tag and users and not force:
                raise FailedPrecondition(
                    f'conflict: unable to remove repository reference "{text}" (must force) - '
                    f"container {_short_holder(users[0])} is using its referenced image {short}"
                )
            self.repo.remove_name(name)
            items.append(RemoveItem(untagged=naming.familiar(name)))
            items += self._untag_digests(name, remaining)
            if not last_tag:
                return items
        if users:  # forced: the image loses its names but stays for its users
            for removed in self.repo.remove_names(image.id):
                if not any(i.untagged == naming.familiar(removed) for i in items):
                    items.append(RemoveItem(untagged=naming.familiar(removed)))
            return items
        for removed in self.repo.delete_image(image.id):
            if not any(i.untagged == naming.familiar(removed) for i in items):
                items.append(RemoveItem(untagged=naming.familiar(removed)))
        items.append(RemoveItem(deleted=image.id))
        self.collect_garbage()
        return items

    def _untag_digests(self, name: str, remaining: list[NameRecord]) -> list[RemoveItem]:
        """docker's rmi of a tag: when no other tag of its repository is left, the digest
        references of that repository go with it (and are listed right after it)."""
        repo = naming.split_name(name)[0]
        same = [n for n in remaining if naming.split_name(n.name)[0] == repo]
        if any(n.kind == "tag" for n in same):
            return []
        items = []
        for digest_name in same:
            self.repo.remove_name(digest_name.name)
            items.append(RemoveItem(untagged=naming.familiar(digest_name.name)))
        return items

    # -- archives ---------------------------------------------------------------------------

    def load(self, path: Path, channel: ProgressChannel) -> LoadResult:
        from pyengine.images import archive_in

        result = archive_in.load(self.ingest, path, channel)
        for image_id in result.image_ids:
            self.publish("image", "load", image_id)
        return result

    def import_tarball(
        self, path: Path, opts: ImportOptions, channel: ProgressChannel
    ) -> tuple[str, str]:
        from pyengine.images import importer

        image_id, name = importer.import_image(self.ingest, path, opts, channel)
        self.publish("image", "import", image_id)
        if name:  # docker tags the imported image after, with its event
            self.publish("image", "tag", image_id, name=naming.familiar(name))
        return image_id, name

    def commit(self, base_id: str, layer: NewLayer) -> tuple[str, str]:
        """A new image: image `base_id` plus `layer` (a container's writable layer); returns
        (image id, name or "")."""
        from pyengine.images import commit
        from pyengine.progress import NullChannel

        base = self.repo.image(base_id)
        image_id, name = commit.commit_image(self.ingest, base, layer, NullChannel())
        self.publish("image", "commit", image_id)
        if name:
            self.publish("image", "tag", image_id, name=naming.familiar(name))
        return image_id, name

    def record_built(self, config_bytes: bytes, layers: list[LayerRef], docker_media: bool,
                     names: list[str], lease_id: str) -> str:
        """A built image (build/export.py): its config and manifest written next to layers
        the build stored and unpacked under `lease_id`; `names` (fully qualified tags) move to
        it. Returns the image id."""
        from pyengine.build.export import write_manifest
        from pyengine.progress import NullChannel

        config_digest = self.ingest.content.write_blob(config_bytes)
        manifest_digest = write_manifest(self.ingest, config_digest, len(config_bytes), layers,
                                         docker_media)
        blobs = [*(ref.digest for ref in layers), config_digest, manifest_digest]
        self.ingest.protect(lease_id, blobs)
        unpacked = self.ingest.unpack(config_digest, layers, lease_id, NullChannel())
        record = self.ingest.record(config_digest, manifest_digest, None, unpacked, blobs,
                                    [(name, "tag") for name in names])
        for name in names:
            self.publish("image", "tag", record.id, name=naming.familiar(name))
        return record.id

    def save(self, references: list[str], fmt: str, out: BufferedIOBase) -> None:
        from pyengine.images import archive_out

        archive_out.save(self, references, fmt, out)

    def image_count(self) -> int:
        return self.repo.count()

    def stored_tag(self, text: str) -> str | None:
        """The tag (repo:tag) `text` names, if it is one and exists locally."""
        name = self.name_for(text)
        if name is None or "@" in name or self.repo.name(name) is None:
            return None
        return name

    def name_for(self, text: str) -> str | None:
        """The stored name (repo:tag or repo@digest) a user's reference maps to, if it parses."""
        try:
            ref = naming.parse(text)
        except InvalidArgument:
            return None
        if ref.digest:
            return naming.digest_name(naming.repository(ref), ref.digest)
        return naming.tag_name(ref)

    # -- listing and inspection -------------------------------------------------------------

    def rows(self, *, dangling: bool | None = None, repo_filter: str = "") -> list[ImageRow]:
        rows: list[ImageRow] = []
        for image in self.repo.images():
            names = self.repo.names(image.id)
            tags = [n.name for n in names if n.kind == "tag"]
            digests = [n.name for n in names if n.kind == "digest"]
            if dangling is True and tags:
                continue
            if dangling is False and not tags:
                continue
            repo_tags = [naming.familiar(t) for t in tags]
            repo_digests = [naming.familiar(d) for d in digests]
            digest_of = {naming.split_name(d)[0]: naming.split_name(d)[2] for d in digests}
            entries: list[tuple[str, str, str]] = []
            for name in tags:
                repo, tag, _ = naming.split_name(name)
                entries.append((repo, tag, digest_of.get(repo, "")))
            tagged_repos = {naming.split_name(t)[0] for t in tags}
            for name in digests:  # repositories known only by digest: "repo <none>", as docker
                repo, _, digest = naming.split_name(name)
                if repo not in tagged_repos:
                    entries.append((repo, "", digest))
            if not entries:
                entries.append(("", "", ""))
            for repo, tag, digest in entries:
                short = naming.familiar_repository(repo) if repo else ""
                if repo_filter and not _matches_filter(repo_filter, short, tag):
                    continue
                rows.append(ImageRow(image, short, tag, digest, repo_tags, repo_digests))
        return rows

    def config_of(self, image: ImageRecord) -> dict:
        return json.loads(self.content.read_bytes(image.id))

    def layer_sizes(self, image: ImageRecord) -> dict[str, int]:
        """diff_id -> uncompressed size for the image's layers."""
        sizes: dict[str, int] = {}
        chain_id: str | None = image.chain_id
        while chain_id:
            record = self.repo.layer(chain_id)
            if record is None:
                break
            sizes[record.diff_id] = record.size
            chain_id = record.parent
        return sizes

    def inspect(self, text: str) -> dict:
        from pyengine.images.inspect import inspect_document

        image = self.resolve_local(text)
        return inspect_document(
            image, self.config_of(image), self.repo.names(image.id), self.config.storage_driver
        )

    def history(self, text: str) -> list[HistoryRow]:
        from pyengine.images.inspect import history_entries

        image = self.resolve_local(text)
        images = [(image_id, [naming.familiar(n.name) for n in self.repo.names(image_id)
                              if n.kind == "tag"])
                  for image_id in [image.id, *self.repo.parents(image.id)]]
        return history_entries(self.config_of(image), self.layer_sizes(image), images)

    # -- prune and disk usage ---------------------------------------------------------------

    def prune(self, *, all_images: bool = False) -> tuple[list[RemoveItem], int]:
        items: list[RemoveItem] = []
        with self.collector.lock.exclusive():
            in_use = {use.image_id for use in self.collector.roots().images}
            for image in self.repo.images():
                tags = [n for n in self.repo.names(image.id) if n.kind == "tag"]
                if (tags and not all_images) or image.id in in_use:
                    continue
                for removed in self.repo.delete_image(image.id):
                    items.append(RemoveItem(untagged=naming.familiar(removed)))
                items.append(RemoveItem(deleted=image.id))
            result = self.collector.collect_locked()
        for item in items:
            if item.deleted:
                self.publish("image", "delete", item.deleted)
        return items, result.bytes_freed

    def disk_usage(self) -> DiskUsage:
        images = self.repo.images()
        users: dict[str, int] = {}
        chains: dict[str, list[str]] = {}
        for image in images:
            chain: list[str] = []
            chain_id: str | None = image.chain_id
            while chain_id:
                chain.append(chain_id)
                record = self.repo.layer(chain_id)
                chain_id = record.parent if record else None
            chains[image.id] = chain
            for c in chain:
                users[c] = users.get(c, 0) + 1
        per_image: list[ImageUsage] = []
        for image in images:
            shared = 0
            for c in chains[image.id]:
                record = self.repo.layer(c)
                if record and users[c] > 1:
                    shared += record.size
            per_image.append(ImageUsage(
                id=image.id,
                repo_tags=[naming.familiar(n.name) for n in self.repo.names(image.id)
                           if n.kind == "tag"],
                created=image.created,
                size=image.size,
                shared_size=shared,
            ))
        layers_size = 0
        for used in users:
            record = self.repo.layer(used)
            layers_size += record.size if record else 0
        content_size = sum(int(info.size) for info in self.content.walk())
        blobs, snaps = self.collector.unreferenced()
        return DiskUsage(
            images=per_image,
            layers_size=layers_size,
            content_size=content_size,
            reclaimable=layers_size + content_size,
            unreferenced_blobs=len(blobs),
            unreferenced_snapshots=len(snaps),
        )

    # -- registry queries -------------------------------------------------------------------

    def login(self, auth: RegistryAuth) -> str:
        host = auth.server_address.removeprefix("https://").removeprefix("http://")
        host = host.split("/", 1)[0] or "docker.io"
        if not auth.username:
            raise InvalidArgument("login: a username is required")
        with self.registry_client(auth) as client:
            client.check_login(host, auth.username, auth.password)
        return ""

    def search(
        self, term: str, *, registry: str = "", limit: int = 25, auth: RegistryAuth | None = None
    ) -> list[str]:
        host, needle = _search_target(term, registry)
        found: list[str] = []
        last: str | None = None
        with self.registry_client(auth) as client:
            while len(found) < limit:
                page = client.catalog(host, 100, last)
                found += [
                    f"{host}/{name}" for name in page.repositories
                    if needle.lower() in name.lower()
                ]
                if not page.next_last or not page.repositories:
                    break
                last = page.next_last
        return found[:limit]


    def search_index(
        self, term: str, *, limit: int = 25, auth: RegistryAuth | None = None
    ) -> list[SearchResult]:
        """dockerd's search: the registry's v1 search API (an error where it has none)."""
        host, needle = _search_target(term, "")
        with self.registry_client(auth) as client:
            return client.search(host, needle, limit)


def _search_target(term: str, registry: str) -> tuple[str, str]:
    """(registry host, search term) of a search for `term` ("HOST[:PORT]/TERM")."""
    host, needle = registry, term
    first, sep, rest = term.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        host, needle = first, rest
    if not host:
        raise InvalidArgument(
            "search: no registry given; use HOST[:PORT]/TERM (there is no default search "
            "index offline)"
        )
    return host, needle


class _KnownSources:
    """The blob sources of one registry, as the registry client's push asks for them."""

    def __init__(self, sources: BlobSourceRepository, registry: str) -> None:
        self._sources = sources
        self._registry = registry

    def candidates(self, digest: str) -> list[str]:
        return self._sources.repositories(digest, self._registry)

    def refused(self, digest: str, repository: str) -> None:
        self._sources.forget(digest, self._registry, repository)


class Publish(Protocol):
    """Where the service reports what happened (the engine's event bus)."""

    def __call__(self, type_: str, action: str, id_: str, **attributes: str) -> None: ...


def _no_events(type_: str, action: str, id_: str, **attributes: str) -> None:
    pass


def _short_holder(use: ImageUse) -> str:
    return use.holder.removeprefix("sha256:")[:12]


def _matches_filter(pattern: str, repository: str, tag: str) -> bool:
    """docker images REPOSITORY[:TAG] argument: shell-style match on the familiar name."""
    from fnmatch import fnmatchcase

    colon = pattern.rfind(":")
    if colon > pattern.rfind("/"):  # a tag pattern follows the last path component
        repo_pat, sep, tag_pat = pattern[:colon], ":", pattern[colon + 1:]
    else:
        repo_pat, sep, tag_pat = pattern, "", ""
    if not fnmatchcase(repository, repo_pat):
        return False
    return not sep or fnmatchcase(tag, tag_pat)


def matches_reference(pattern: str, familiar: str) -> bool:
    """docker's `reference` filter on one familiar name (repo:tag or repo@digest)."""
    repo, at, _ = familiar.partition("@")
    tag = ""
    if not at:
        colon = familiar.rfind(":")
        if colon > familiar.rfind("/"):
            repo, tag = familiar[:colon], familiar[colon + 1:]
    return _matches_filter(pattern, repo, tag)


class _Download:
    """The registry fetch of one pull, in a thread, so layers unpack as they arrive."""

    POLL_SECONDS = 0.05

    def __init__(
        self,
        service: ImageService,
        client: RegistryClient,
        ref: Reference,
        platform: Platform | None,
        channel: ProgressChannel,
    ) -> None:
        self.content = service.content
        self.channel = channel
        self._stopping = threading.Event()
        self._arrived = threading.Event()
        self._result: PullResult | None = None
        self._error: BaseException | None = None
        workers = max(1, service.config.max_concurrent_downloads)

        def progress(event: ProgressEvent) -> None:
            if self._stopping.is_set():
                raise Cancelled("pull stopped")
            if event.action in ("Download complete", "Already exists"):
                self._arrived.set()
            channel.report(event.id, event.action, event.current, event.total)

        def run() -> None:
            try:
                self._result = client.pull(
                    ref, service.content, platform=platform, progress=progress,
                    max_workers=workers,
                )
            except BaseException as err:
                self._error = err
            finally:
                self._arrived.set()

        self._thread = threading.Thread(target=run, name="download", daemon=True)
        self._thread.start()

    def wait_for(self, digest: str) -> None:
        """Block until blob `digest` is in the content store (or the download failed)."""
        while not self.content.exists(digest):
            self.channel.check()
            if not self._thread.is_alive():
                if self._error is not None:
                    raise self._error
                if not self.content.exists(digest):
                    raise DataLoss(f"pull: blob {digest} missing after the download finished")
                return
            self._arrived.wait(self.POLL_SECONDS)
            self._arrived.clear()

    def result(self) -> PullResult:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None  # run() either set it or failed
        return self._result

    def stop(self) -> None:
        """Make the fetch stop at its next progress report and wait for it."""
        if self._thread.is_alive():
            self._stopping.set()
            self._thread.join()


def _repository_of(familiar: str) -> str:
    """docker's name attribute of pull and push events: the name without its tag."""
    repository, sep, tag = familiar.rpartition(":")
    return repository if sep and "/" not in tag else familiar

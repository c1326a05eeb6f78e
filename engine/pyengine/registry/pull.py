"""Pull: resolve, then fetch config and layers concurrently into the content store.

Each blob is streamed straight into a content-store ingest (socket -> buffer -> hash ->
file), bounded by its descriptor's size and verified on commit. A transfer cut short is
resumed with ``Range: bytes=<offset>-`` (also across runs: the ingest survives a crash);
a server that ignores Range makes us start the blob again. Manifests are stored last, so a
manifest in the store implies its blobs are there too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

from pyengine import reference as refs
from pyengine.content import BlobExists, ContentStore, DigestMismatch, IngestLocked, Writer
from pyengine.registry import _log as log
from pyengine.registry import media_types as mt
from pyengine.registry import progress as pg
from pyengine.registry.client import PullResult, RegistryClient, pull_scope
from pyengine.registry.descriptor import Descriptor, Platform, parse_manifest
from pyengine.registry.errors import (
    ContentMismatch,
    PlatformNotFound,
    RegistryUnavailable,
    UnsupportedMediaType,
)
from pyengine.registry.transport import CONNECTION_ERRORS, Response, redact_url


class PullCancelled(Exception):
    """Internal: another blob of the same pull failed."""


def pull(
    client: RegistryClient,
    ref: refs.Reference | str,
    store: ContentStore,
    platform: Platform | str | None,
    progress: pg.ProgressCallback | None,
    max_workers: int,
) -> PullResult:
    ref = refs.parse(ref) if isinstance(ref, str) else ref
    wanted = Platform.parse(platform) if isinstance(platform, str) else platform
    resolved = client.resolve(ref, wanted)
    what = ref.familiar()
    manifest = parse_manifest(resolved.manifest_bytes, resolved.media_type, f"manifest of {what}")
    check_media_types(manifest.config, manifest.layers, what)
    reporter = pg.Reporter(progress)
    host = resolved.endpoint
    blobs: list[Descriptor] = []
    seen: set[str] = set()
    for descriptor in [manifest.config, *manifest.layers]:
        if descriptor.digest not in seen:
            seen.add(descriptor.digest)
            blobs.append(descriptor)
    layer_ids = {layer.digest for layer in manifest.layers}
    for layer in manifest.layers:
        reporter.emit(layer.short_id, pg.WAITING)
    cancel = threading.Event()
    fetcher = BlobFetcher(client, host, ref.repository, store, reporter, cancel)
    if wanted is not None and resolved.index is None:
        # A single-platform image pulled with --platform: check its config before the layers.
        fetcher.fetch(manifest.config, False)
        check_config_platform(store, manifest.config.digest, wanted, what)
    errors = run_parallel(
        [partial(fetcher.fetch, blob, blob.digest in layer_ids) for blob in blobs],
        max_workers,
        cancel,
    )
    if errors:
        real = [e for e in errors if not isinstance(e, PullCancelled)]
        raise (real or errors)[0]
    store.write_blob(resolved.manifest_bytes, expected=resolved.descriptor.digest)
    if resolved.index is not None and resolved.index_bytes is not None:
        store.write_blob(resolved.index_bytes, expected=resolved.index.digest)
    return PullResult(
        ref=ref,
        manifest_digest=resolved.descriptor.digest,
        config_digest=manifest.config.digest,
        layers=list(manifest.layers),
        index_digest=resolved.index.digest if resolved.index else None,
        manifest_media_type=resolved.media_type,
        config_media_type=manifest.config.media_type,
        platform=resolved.descriptor.platform,
        endpoint=host,
    )


def run_parallel(
    tasks: list[Callable[[], object]], max_workers: int, cancel: threading.Event
) -> list[BaseException]:
    """Run ``tasks`` on up to ``max_workers`` threads; the first failure sets ``cancel``.

    Returns the exceptions raised, in task order. (A tiny pool rather than
    concurrent.futures, which would add its imports to every client's start-up.)
    """
    pending = list(enumerate(tasks))
    lock = threading.Lock()
    failures: dict[int, BaseException] = {}

    def worker() -> None:
        while True:
            with lock:
                if not pending or cancel.is_set():
                    return
                position, task = pending.pop(0)
            try:
                task()
            except BaseException as exc:
                with lock:
                    failures[position] = exc
                cancel.set()

    threads = [
        threading.Thread(target=worker, name=f"pull-{i}", daemon=True)
        for i in range(max(1, min(max_workers, len(tasks))))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [failures[i] for i in sorted(failures)]


def check_media_types(config: Descriptor, layers: list[Descriptor], what: str) -> None:
    """Refuse, before downloading anything, what we could not unpack."""
    if config.media_type not in mt.CONFIG_TYPES:
        raise UnsupportedMediaType(
            f"{what}: config media type {config.media_type!r} is not a container image "
            "config (is this an artifact, not an image?)"
        )
    for layer in layers:
        if layer.media_type not in mt.LAYER_TYPES:
            raise UnsupportedMediaType(
                f"{what}: layer {layer.digest} has unsupported media type {layer.media_type!r}"
            )


def check_config_platform(store: ContentStore, digest: str, wanted: Platform, what: str) -> None:
    """For a single-manifest image pulled with --platform, its config must match."""
    import json

    try:
        config = json.loads(store.read_bytes(digest))
    except ValueError:
        return
    if not isinstance(config, dict):
        return
    os_name, arch = config.get("os"), config.get("architecture")
    if not os_name or not arch:
        return
    found = Platform(os_name, arch, config.get("variant") or "").normalized()
    wanted = wanted.normalized()
    if (found.os, found.architecture) != (wanted.os, wanted.architecture):
        raise PlatformNotFound(
            f"image {what} was found but its platform ({found}) does not match the "
            f"specified platform ({wanted})"
        )


class BlobFetcher:
    """Downloads blobs of one repository into a content store (thread-safe)."""

    def __init__(
        self,
        client: RegistryClient,
        host: str,
        repository: str,
        store: ContentStore,
        reporter: pg.Reporter,
        cancel: threading.Event,
    ) -> None:
        self.client = client
        self.host = host
        self.repository = repository
        self.store = store
        self.reporter = reporter
        self.cancel = cancel

    def fetch(self, descriptor: Descriptor, is_layer: bool) -> str:
        """Make sure ``descriptor`` is in the store; returns its digest."""
        short = descriptor.short_id if is_layer else ""
        config = self.client.config
        locked_deadline = time.monotonic() + config.read_timeout * config.max_attempts
        while True:
            if self.cancel.is_set():
                raise PullCancelled()
            try:
                writer = self.store.writer(
                    f"blob-{descriptor.digest}", descriptor.digest, descriptor.size
                )
            except BlobExists:
                if self.store.info(descriptor.digest).size == descriptor.size:
                    if short:
                        self.reporter.emit(short, pg.ALREADY_EXISTS)
                    return descriptor.digest
                raise ContentMismatch(
                    f"blob {descriptor.digest}: stored size differs from the manifest's "
                    f"{descriptor.size}"
                ) from None
            except IngestLocked:
                # Another pull is fetching the same blob: wait for it, within reason.
                if time.monotonic() > locked_deadline:
                    raise RegistryUnavailable(
                        f"blob {descriptor.digest}: another pull has been fetching it for too "
                        "long (its ingest stays locked)"
                    ) from None
                time.sleep(0.1)
                continue
            try:
                try:
                    self._download(writer, descriptor, short)
                except PullCancelled:
                    if writer.offset == 0:
                        writer.abort()  # nothing worth resuming
                    raise
                if short:
                    self.reporter.emit(short, pg.VERIFYING, descriptor.size, descriptor.size)
                try:
                    writer.commit()
                except DigestMismatch as exc:
                    raise ContentMismatch(
                        f"pull {self.repository}: blob {descriptor.digest}: {exc}"
                    ) from None
                if short:
                    self.reporter.emit(short, pg.DOWNLOAD_COMPLETE)
                return descriptor.digest
            finally:
                writer.close()

    def _download(self, writer: Writer, descriptor: Descriptor, short: str) -> None:
        config = self.client.config
        # The registry first; then the descriptor's URLs (foreign/non-distributable layers).
        sources = [f"/v2/{self.repository}/blobs/{descriptor.digest}"]
        sources += [url for url in descriptor.urls if self._url_allowed(url)]
        path = sources.pop(0)
        failures = 0
        last_error = ""
        while writer.offset < descriptor.size or descriptor.size == 0:
            if failures >= config.max_attempts:
                raise RegistryUnavailable(
                    f"fetch blob {descriptor.digest} from {self.host}/{self.repository}: "
                    f"gave up after {failures} interrupted transfers ({last_error})"
                )
            headers = {}
            resuming = writer.offset > 0
            if resuming:
                headers["Range"] = f"bytes={writer.offset}-"
            response = self.client.request(
                self.host, "GET", path, scopes=pull_scope(self.repository), headers=headers
            )
            if response.status == 416 and resuming:
                response.close()
                writer.reset()
                continue
            if response.status == 404 and sources:
                response.close()
                path = sources.pop(0)
                log.info("blob %s not in %s: trying %s", descriptor.digest, self.repository,
                         redact_url(path))
                continue
            self.client.raise_for_status(
                response, f"fetch blob {descriptor.digest} of {self.repository}"
            )
            try:
                if response.status == 206:
                    start = _content_range_start(response.header("Content-Range"))
                    if start != writer.offset:
                        response.discard()
                        writer.reset()
                        failures += 1
                        last_error = "server sent a different range than asked"
                        continue
                elif resuming:
                    writer.reset()
                self._stream(response, writer, descriptor, short)
                response.close()
            except CONNECTION_ERRORS as exc:
                response.discard()
                failures += 1
                last_error = f"{type(exc).__name__} at byte {writer.offset}"
                self.client.backoff(failures - 1, None)
                continue
            except BaseException:
                response.discard()
                raise
            if writer.offset < descriptor.size:
                failures += 1
                last_error = f"connection closed at byte {writer.offset}"
                continue
            if descriptor.size == 0:
                break

    def _url_allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme == "https":
            return True
        return parts.scheme == "http" and self.client.config.allows_plain_http(parts.netloc)

    def _stream(
        self, response: Response, writer: Writer, descriptor: Descriptor, short: str
    ) -> None:
        """Copy the body into the ingest as it arrives (read1: no waiting for a full chunk).

        (Hashing on a helper thread to overlap with the socket reads was measured slower on
        this 2-core class of machine: the layers already download in parallel.)
        """
        total = descriptor.size
        chunk = self.client.config.read_chunk_size
        while writer.offset < total:
            if self.cancel.is_set():
                raise PullCancelled()
            data = response.read1(min(chunk, total - writer.offset))
            if not data:
                return
            writer.write(data)
            if short:
                self.reporter.bytes(short, pg.DOWNLOADING, writer.offset, total)


def _content_range_start(header: str | None) -> int | None:
    """Start offset of ``Content-Range: bytes START-END/TOTAL``."""
    if not header or not header.startswith("bytes "):
        return None
    try:
        return int(header[6:].split("-", 1)[0])
    except ValueError:
        return None

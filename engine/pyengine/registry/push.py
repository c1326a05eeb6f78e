"""Push: blobs first (existence check, cross-repository mount, monolithic or chunked upload),
then manifests (children of an index before the index).

Progress is docker's (checked against dockerd 20.10): one id per layer, its diff ID's first 12
hex digits, top layer first; every layer "Preparing", those beyond the concurrent uploads
"Waiting", then "Layer already exists" (HEAD found it), "Mounted from <repository>" (a
cross-repository mount) or "Pushing" with byte counts and "Pushed". The config blob goes after
the layers, silently.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO, Protocol

from pyengine import reference as refs
from pyengine.content import ContentStore
from pyengine.digest import Digest
from pyengine.errors import FailedPrecondition, NotFound
from pyengine.registry import _log as log
from pyengine.registry import media_types as mt
from pyengine.registry import progress as pg
from pyengine.registry.client import PushResult, RegistryClient, push_scope
from pyengine.registry.descriptor import Descriptor, parse_index, parse_manifest
from pyengine.registry.errors import (
    AccessDenied,
    AuthenticationFailed,
    RegistryResponseError,
    RegistryUnavailable,
    UnsupportedMediaType,
)
from pyengine.registry.transport import REQUEST_ERRORS, Response, Upload, join_query

#: cross-repository mounts offered per blob before uploading it (docker's limit too)
MAX_MOUNT_ATTEMPTS = 3


class MountSources(Protocol):
    """What the caller knows of where blobs already are on the target's registry."""

    def candidates(self, digest: str) -> list[str]:
        """Repositories (paths on the target's registry) believed to hold `digest`, best
        first."""
        ...

    def refused(self, digest: str, repository: str) -> None:
        """The registry would not mount `digest` from `repository`: forget that source."""
        ...


def push(
    client: RegistryClient,
    ref: refs.Reference | str,
    store: ContentStore,
    manifest_digest: str,
    progress: pg.ProgressCallback | None,
    mount_from: list[str],
    max_workers: int,
    sources: MountSources | None = None,
) -> PushResult:
    ref = refs.parse(ref) if isinstance(ref, str) else ref
    pusher = Pusher(client, ref, store, pg.Reporter(progress), mount_from, max_workers, sources)
    return pusher.push_top(str(Digest.parse(manifest_digest)))


class Pusher:
    def __init__(
        self,
        client: RegistryClient,
        ref: refs.Reference,
        store: ContentStore,
        reporter: pg.Reporter,
        mount_from: list[str],
        max_workers: int,
        sources: MountSources | None = None,
    ) -> None:
        self.client = client
        self.ref = ref
        self.repository = ref.repository
        self.host = ref.api_host
        self.store = store
        self.reporter = reporter
        self.mount_from = [m for m in mount_from if m != ref.repository]
        self.max_workers = max(1, max_workers)
        self.scopes = push_scope(self.repository)
        self.sources = sources
        self._present: list[str] = []  # blobs the target repository holds after this push
        self._present_lock = threading.Lock()

    def push_top(self, digest: str) -> PushResult:
        data = self.store.read_bytes(digest)
        media_type = mt.detect_manifest_type(data, None) or ""
        what = f"push {self.ref.familiar()}"
        if media_type in mt.INDEX_TYPES:
            for entry in parse_index(data, f"{what}: index {digest}"):
                if not self.store.exists(entry.digest):
                    raise FailedPrecondition(
                        f"{what}: manifest {entry.digest} ({entry.platform}) of index {digest} "
                        "is not in the content store"
                    )
                child = self.store.read_bytes(entry.digest)
                child_type = entry.media_type or mt.detect_manifest_type(child, None) or ""
                self._push_image(entry.digest, child, child_type, by_digest=True)
        elif media_type in mt.MANIFEST_TYPES:
            self._push_image(digest, data, media_type, by_digest=False)
        else:
            raise UnsupportedMediaType(f"{what}: {digest} has unsupported type {media_type!r}")
        target = self.ref.digest or self.ref.tag or refs.DEFAULT_TAG
        self._put_manifest(target, data, media_type)
        with self._present_lock:
            present = tuple(dict.fromkeys(self._present))
        return PushResult(self.ref, digest, len(data), media_type, present)

    def _push_image(self, digest: str, data: bytes, media_type: str, by_digest: bool) -> None:
        """Push the blobs of one image manifest, then (for index children) the manifest."""
        manifest = parse_manifest(data, media_type, f"manifest {digest}")
        # Foreign (non-distributable) layers with URLs stay where they are, as with docker.
        layers = [
            layer for layer in manifest.layers
            if not (layer.urls and layer.media_type in mt.NONDISTRIBUTABLE_LAYERS)
        ]
        blobs = [manifest.config, *layers]
        missing = [b.digest for b in blobs if not self.store.exists(b.digest)]
        if missing:
            raise FailedPrecondition(
                f"push {self.ref.familiar()}: blobs not in the content store: "
                f"{', '.join(missing)}"
            )
        shown = self._progress_ids(
            manifest.config.digest, [layer.digest for layer in manifest.layers]
        )
        # docker's order: top layer first; a layer listed twice is pushed once
        queue = list({layer.digest: layer for layer in reversed(layers)}.values())
        for layer in queue:
            self.reporter.emit(shown[layer.digest], pg.PREPARING)
        for layer in queue[self.max_workers:]:
            self.reporter.emit(shown[layer.digest], pg.WAITING)
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="push") as pool:
            futures = [pool.submit(self.push_blob, b, shown[b.digest]) for b in queue]
            for future in futures:
                future.result()
        self.push_blob(manifest.config, "")
        if by_digest:
            self._put_manifest(digest, data, media_type)

    def _put_manifest(self, target: str, data: bytes, media_type: str) -> None:
        response = self.client.request(
            self.host,
            "PUT",
            f"/v2/{self.repository}/manifests/{target}",
            scopes=self.scopes,
            headers={"Content-Type": media_type},
            body=data,
        )
        self.client.raise_for_status(response, f"push manifest {self.ref.familiar_name()}:{target}")
        response.close()

    def _progress_ids(self, config_digest: str, layers: list[str]) -> dict[str, str]:
        """Each layer's progress id: its diff ID's short form, as docker shows a push (the
        compressed digest's when the config does not list one diff ID per layer)."""
        ids = {digest: Digest.parse(digest).hex[:12] for digest in layers}
        try:
            config = json.loads(self.store.read_bytes(config_digest))
            diff_ids = config["rootfs"]["diff_ids"]
        except (ValueError, KeyError, TypeError):
            return ids
        if not isinstance(diff_ids, list) or len(diff_ids) != len(layers):
            return ids
        for digest, diff_id in zip(layers, diff_ids, strict=True):
            if isinstance(diff_id, str) and ":" in diff_id:
                ids[digest] = diff_id.split(":", 1)[1][:12]
        return ids

    # -- blobs -------------------------------------------------------------------------------
    def push_blob(self, descriptor: Descriptor, short: str) -> None:
        """Make the target repository hold one blob; `short` is its progress id ("": none)."""
        if self._exists(descriptor.digest):
            if short:
                self.reporter.emit(short, pg.LAYER_EXISTS)
            self._holds(descriptor.digest)
            return
        location = None
        for source in self._mount_candidates(descriptor.digest):
            try:
                offered = self._try_mount(descriptor.digest, source)
            except (AuthenticationFailed, AccessDenied) as err:
                # no pull access to the source for these credentials (someone else's may
                # have it: the source stays known); docker uploads then too
                log.info("mount of %s from %s refused: %s", descriptor.digest, source, err)
                continue
            except (NotFound, RegistryResponseError) as err:
                log.info("mount of %s from %s failed: %s", descriptor.digest, source, err)
                offered = ""
            if offered is None:
                if short:
                    self.reporter.emit(short, f"{pg.MOUNTED_FROM} {source}")
                self._holds(descriptor.digest)
                return
            if self.sources is not None:
                self.sources.refused(descriptor.digest, source)
            if not offered:
                continue
            if location is not None:
                self._cancel_upload(location)
            location = offered  # the registry opened an upload instead (202): use the last
        for attempt in range(2):
            if location is None:
                location = self._start_upload()
            try:
                if descriptor.size <= self.client.config.upload_monolithic_max:
                    self._upload_monolithic(location, descriptor, short)
                else:
                    self._upload_chunked(location, descriptor, short)
                break
            except (RegistryResponseError, NotFound, RegistryUnavailable):
                if attempt == 1:
                    raise
                location = None  # the upload session may be gone: start a new one once
        if short:
            self.reporter.emit(short, pg.PUSHED)
        self._holds(descriptor.digest)

    def _holds(self, digest: str) -> None:
        with self._present_lock:
            self._present.append(digest)

    def _mount_candidates(self, digest: str) -> list[str]:
        known = self.sources.candidates(digest) if self.sources is not None else []
        ordered = dict.fromkeys([*known, *self.mount_from])
        ordered.pop(self.repository, None)
        return list(ordered)[:MAX_MOUNT_ATTEMPTS]

    def _cancel_upload(self, location: str) -> None:
        """Best effort: end an upload session a refused mount opened and we do not use."""
        try:
            response = self.client.request(
                self.host, "DELETE", location, scopes=self.scopes, retry=False
            )
            response.close()
        except REQUEST_ERRORS:
            pass
        except RegistryUnavailable:
            pass

    def _exists(self, digest: str) -> bool:
        response = self.client.request(
            self.host, "HEAD", f"/v2/{self.repository}/blobs/{digest}", scopes=self.scopes
        )
        response.close()
        if response.status == 200:
            return True
        if response.status == 404:
            return False
        self.client.raise_for_status(response, f"check blob {digest} in {self.repository}")
        return False

    def _try_mount(self, digest: str, source: str) -> str | None:
        """Mount ``digest`` from ``source``; None when mounted, else the upload Location."""
        scopes = self.scopes | frozenset({f"repository:{source}:pull"})
        response = self.client.request(
            self.host,
            "POST",
            f"/v2/{self.repository}/blobs/uploads/?mount={digest}&from={source}",
            scopes=scopes,
        )
        if response.status == 201:
            response.close()
            return None
        self.client.raise_for_status(response, f"mount blob {digest} from {source}")
        response.close()
        return self._location(response)

    def _start_upload(self) -> str:
        response = self.client.request(
            self.host, "POST", f"/v2/{self.repository}/blobs/uploads/", scopes=self.scopes
        )
        self.client.raise_for_status(response, f"start upload to {self.repository}")
        response.close()
        return self._location(response)

    def _location(self, response: Response) -> str:
        location = response.header("Location")
        if not location:
            raise RegistryResponseError(
                f"upload to {self.repository}: registry sent no Location", response.status
            )
        from urllib.parse import urljoin

        return urljoin(response.url, location)

    def _open_blob(
        self, digest: str, offset: int = 0, length: int | None = None,
        sent: Callable[[int], None] | None = None,
    ) -> Callable[[], Upload]:
        """Opens the blob (or a window of it) afresh for each attempt; `sent(n)` is told the
        bytes read so far for the request body."""
        path = self.store.path(digest)

        def opener() -> Upload:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the transport
            handle.seek(offset)
            size = os.fstat(handle.fileno()).st_size - offset
            return _Window(handle, size if length is None else length, sent)

        return opener

    def _upload_monolithic(self, location: str, descriptor: Descriptor, short: str) -> None:
        sent = None
        if short:
            self.reporter.emit(short, pg.PUSHING, 0, descriptor.size)

            def sent(count: int) -> None:
                self.reporter.bytes(short, pg.PUSHING, count, descriptor.size)

        url = join_query(location, [("digest", descriptor.digest)])
        response = self.client.request(
            self.host,
            "PUT",
            url,
            scopes=self.scopes,
            headers={"Content-Type": "application/octet-stream"},
            body=self._open_blob(descriptor.digest, sent=sent),
            body_length=descriptor.size,
        )
        self.client.raise_for_status(response, f"upload blob {descriptor.digest}")
        response.close()

    def _upload_chunked(self, location: str, descriptor: Descriptor, short: str) -> None:
        size = descriptor.size
        chunk = max(1, self.client.config.upload_chunk_size)
        offset = 0
        failures = 0
        while offset < size:
            length = min(chunk, size - offset)
            try:
                response = self.client.request(
                    self.host,
                    "PATCH",
                    location,
                    scopes=self.scopes,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Range": f"{offset}-{offset + length - 1}",
                    },
                    body=self._open_blob(descriptor.digest, offset, length),
                    body_length=length,
                    retry=False,
                )
            except RegistryUnavailable:
                failures += 1
                if failures >= self.client.config.max_attempts:
                    raise
                offset, location = self._upload_offset(location, offset)
                continue
            if response.status >= 500 and failures < self.client.config.max_attempts - 1:
                response.close()
                failures += 1
                self.client.backoff(failures - 1, response)
                offset, location = self._upload_offset(location, offset)
                continue
            self.client.raise_for_status(response, f"upload chunk of {descriptor.digest}")
            response.close()
            location = self._location(response)
            offset = _range_end(response.header("Range"), offset + length)
            if short:
                self.reporter.bytes(short, pg.PUSHING, offset, size)
        url = join_query(location, [("digest", descriptor.digest)])
        response = self.client.request(self.host, "PUT", url, scopes=self.scopes)
        self.client.raise_for_status(response, f"finish upload of {descriptor.digest}")
        response.close()

    def _upload_offset(self, location: str, acknowledged: int) -> tuple[int, str]:
        """Ask the registry how much of an interrupted upload it kept (and where to go on).

        distribution answers ``Range: 0-0`` both for 0 and 1 byte received; with nothing
        acknowledged yet that means 0.
        """
        response = self.client.request(self.host, "GET", location, scopes=self.scopes)
        self.client.raise_for_status(response, "upload status")
        response.close()
        header = response.header("Range")
        offset = 0 if header == "0-0" and acknowledged == 0 else _range_end(header, acknowledged)
        if response.header("Location"):
            location = self._location(response)
        return offset, location


def _range_end(header: str | None, default: int) -> int:
    """Next offset after a ``Range: 0-<last>`` upload-status header."""
    if not header:
        return default
    try:
        return int(header.rsplit("-", 1)[1]) + 1
    except (ValueError, IndexError):
        return default


class _Window:
    """A read-only window of ``length`` bytes over an open file (a blob or one PATCH chunk);
    ``sent(n)`` hears the bytes read so far."""

    def __init__(
        self, handle: BinaryIO, length: int, sent: Callable[[int], None] | None = None
    ) -> None:
        self._handle = handle
        self._left = length
        self._read = 0
        self._sent = sent

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        if size < 0 or size > self._left:
            size = self._left
        data = self._handle.read(size)
        self._left -= len(data)
        self._read += len(data)
        if self._sent is not None and data:
            self._sent(self._read)
        return data

    def close(self) -> None:
        self._handle.close()


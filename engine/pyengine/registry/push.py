"""Push: blobs first (existence check, cross-repository mount, monolithic or chunked upload),
then manifests (children of an index before the index)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

from pyengine import reference as refs
from pyengine.content import ContentStore
from pyengine.digest import Digest
from pyengine.errors import FailedPrecondition, NotFound
from pyengine.registry import media_types as mt
from pyengine.registry import progress as pg
from pyengine.registry.client import PushResult, RegistryClient, push_scope
from pyengine.registry.descriptor import Descriptor, parse_index, parse_manifest
from pyengine.registry.errors import (
    RegistryResponseError,
    RegistryUnavailable,
    UnsupportedMediaType,
)
from pyengine.registry.transport import Response, Upload, join_query


def push(
    client: RegistryClient,
    ref: refs.Reference | str,
    store: ContentStore,
    manifest_digest: str,
    progress: pg.ProgressCallback | None,
    mount_from: list[str],
    max_workers: int,
) -> PushResult:
    ref = refs.parse(ref) if isinstance(ref, str) else ref
    pusher = Pusher(client, ref, store, pg.Reporter(progress), mount_from, max_workers)
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
        return PushResult(self.ref, digest, len(data), media_type)

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
        layer_ids = {layer.digest for layer in manifest.layers}
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix="push") as pool:
            futures = [pool.submit(self.push_blob, b, b.digest in layer_ids) for b in blobs]
            for future in futures:
                future.result()
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

    # -- blobs -------------------------------------------------------------------------------
    def push_blob(self, descriptor: Descriptor, is_layer: bool) -> None:
        short = descriptor.short_id if is_layer else ""
        if self._exists(descriptor.digest):
            if short:
                self.reporter.emit(short, pg.LAYER_EXISTS)
            return
        location = None
        for source in self.mount_from:
            location = self._try_mount(descriptor.digest, source)
            if location is None:
                if short:
                    self.reporter.emit(short, f"{pg.MOUNTED_FROM} {source}")
                return
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
            self.reporter.emit(short, pg.PUSHED, descriptor.size, descriptor.size)

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
        self, digest: str, offset: int = 0, length: int | None = None
    ) -> Callable[[], Upload]:
        path = self.store.path(digest)

        def opener() -> Upload:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the transport
            handle.seek(offset)
            if length is None:
                return handle
            return _Window(handle, length)

        return opener

    def _upload_monolithic(self, location: str, descriptor: Descriptor, short: str) -> None:
        if short:
            self.reporter.emit(short, pg.PUSHING, 0, descriptor.size)
        url = join_query(location, [("digest", descriptor.digest)])
        response = self.client.request(
            self.host,
            "PUT",
            url,
            scopes=self.scopes,
            headers={"Content-Type": "application/octet-stream"},
            body=self._open_blob(descriptor.digest),
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
    """A read-only window of ``length`` bytes over an open file (one PATCH chunk)."""

    def __init__(self, handle: BinaryIO, length: int) -> None:
        self._handle = handle
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        if size < 0 or size > self._left:
            size = self._left
        data = self._handle.read(size)
        self._left -= len(data)
        return data

    def close(self) -> None:
        self._handle.close()


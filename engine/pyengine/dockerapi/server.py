"""The REST edge's listeners: aiohttp on root-only unix sockets (0600, like the gRPC ones) and
on tcp:// only with mutual TLS; started after the gRPC server, stopped before the engine closes.

Stopping is graceful for ordinary requests (they finish within the grace period) and prompt for
streams: a handler whose response is already under way (events, logs -f, stats, attach, pull
progress) is cancelled at once, so no open client keeps the daemon from stopping. A client that
disconnects ends its stream; a change it asked for (create, start, rm...) is carried out anyway.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from pyengine.config import tcp_address
from pyengine.daemon import prepare_socket_path
from pyengine.dockerapi.app import answer, build_app
from pyengine.dockerapi.context import ApiContext
from pyengine.dockerapi.routes import Handler, Routes
from pyengine.errors import FailedPrecondition

log = logging.getLogger("pyengine.dockerapi")

# handler tasks whose response is under way (streams: events, logs -f, stats, attach, pulls);
# weak: a finished handler's task leaves it by itself
STREAMS: web.AppKey[weakref.WeakSet[asyncio.Task[Any]]] = web.AppKey("streams")
# handler tasks whose client went away before their answer: they finish their work
DETACHED: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("detached")
READS = frozenset(("GET", "HEAD"))


def tracked(handler: Handler) -> Handler:
    """`handler` behind app.answer (version check, errors), tracked: when its client goes away
    (aiohttp cancels the request's task: handler_cancellation) a stream is cancelled, as
    docker's request context ends it; any other handler finishes what it changes (create,
    start, remove...) unseen, as dockerd's do. A read (GET, HEAD) changes nothing to finish:
    it runs in the request's own task, one task and one shield fewer on the hottest calls
    (docker ps: /_ping, then /containers/json); a stream among them is marked and cancelled
    alike."""
    async def endpoint(request: web.Request) -> web.StreamResponse:
        if request.method in READS:
            return await answer(request, handler)
        inner = asyncio.ensure_future(answer(request, handler))
        try:
            return await asyncio.shield(inner)
        except asyncio.CancelledError:
            if not inner.done():
                if inner in request.app[STREAMS]:
                    inner.cancel()
                else:
                    detached = request.app[DETACHED]
                    detached.add(inner)
                    inner.add_done_callback(detached.discard)
                    inner.add_done_callback(_settled)
            raise

    return endpoint


def _settled(task: asyncio.Task[Any]) -> None:
    """A detached handler's outcome, read (nobody awaits it) and logged if it failed."""
    if not task.cancelled() and task.exception() is not None:
        log.info("request finished after its client left", extra={"fields": {
            "error": str(task.exception())}})


def _mark_stream(request: web.Request, response: web.StreamResponse) -> None:
    """A stream's headers going out (in its handler's task): the task is marked. The edge's
    streams are StreamResponses that are not Responses (a body answered whole is a Response,
    prepared after its handler returned), hijacked connections included (hijack.Hijacked)."""
    if not isinstance(response, web.Response):
        task = asyncio.current_task()
        if task is not None:
            request.app[STREAMS].add(task)


def server_tls(cacert: Path, cert: Path, key: Path) -> ssl.SSLContext:
    """Mutual TLS: the daemon's certificate, and clients must present one signed by `cacert`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    context.load_verify_locations(cafile=str(cacert))
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class DockerApiServer:
    """The aiohttp runner and its sites for the daemon's `--docker-api` addresses."""

    def __init__(self, api: ApiContext, addresses: list[str], grace: float) -> None:
        self.api = api
        self.addresses = addresses
        self.grace = grace
        self.sockets: list[Path] = []
        self._runner: web.AppRunner | None = None
        self._app: web.Application | None = None

    def make_app(self, extra: Callable[[Routes], None] | None = None) -> web.Application:
        app = build_app(self.api, tracked, _mark_stream, extra)
        app[STREAMS] = weakref.WeakSet()
        app[DETACHED] = set()
        return app

    async def start(self) -> None:
        """Listen on every address (call on the daemon's loop)."""
        app = self._app = self.make_app()
        # a client going away cancels its request's task (see `track`)
        # SO_KEEPALIVE (a syscall per connection) only where there is a TCP listener
        tcp = any(not address.startswith("unix://") for address in self.addresses)
        runner = self._runner = web.AppRunner(app, handle_signals=False, access_log=None,
                                              handler_cancellation=True,
                                              shutdown_timeout=self.grace, tcp_keepalive=tcp)
        await runner.setup()
        for address in self.addresses:
            site: web.BaseSite
            if address.startswith("unix://"):
                path = Path(address[len("unix://") :])
                prepare_socket_path(path)
                old_umask = os.umask(0o177)
                try:
                    site = web.UnixSite(runner, str(path))
                    await site.start()
                finally:
                    os.umask(old_umask)
                os.chown(path, 0, 0)
                os.chmod(path, 0o600)
                self.sockets.append(path)
            else:
                cfg = self.api.config
                assert cfg.tlscacert and cfg.tlscert and cfg.tlskey  # config.validate checked
                host, port = tcp_address(address)
                context = server_tls(cfg.tlscacert, cfg.tlscert, cfg.tlskey)
                site = web.TCPSite(runner, host, port, ssl_context=context)
                try:
                    await site.start()
                except OSError as err:
                    raise FailedPrecondition(
                        f"listen on {address}: {err.strerror or err}") from err
        log.info("docker api listening", extra={"fields": {"addresses": self.addresses}})

    async def stop(self) -> None:
        """Stop listening, cancel streams at once, give other requests the grace period."""
        runner, app = self._runner, self._app
        if runner is None or app is None:
            return
        for site in list(runner.sites):
            await site.stop()
        streams = app[STREAMS]
        for task in list(streams):
            task.cancel()
        await runner.cleanup()  # waits up to the grace period, then cancels what is left
        detached_set = app[DETACHED]
        detached = list(detached_set)
        for task in detached:  # their grace has passed too
            task.cancel()
        if detached:
            await asyncio.wait(detached)
        for path in self.sockets:
            path.unlink(missing_ok=True)
        self._runner = self._app = None

"""An HTTP proxy in front of a registry that stalls one blob download halfway on request.

Used to freeze a pull at a known point (part of a layer written to an ingest) so that a test
can kill the daemon there, without any timing guesswork.
"""

from __future__ import annotations

import http.client
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_HEADERS = {"connection", "transfer-encoding", "keep-alive"}
STALL_LIMIT = 120.0  # seconds a stalled response waits for release before giving up


class StallProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.stall_pattern: re.Pattern | None = None
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> StallProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def stall(self, path_regex: str | None) -> None:
        self.stall_pattern = re.compile(path_regex) if path_regex else None
        self.stalled.clear()
        self.release.clear()

    def _handler(self):  # type: ignore[no-untyped-def]
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in HOP_HEADERS}
                upstream = http.client.HTTPConnection(proxy.upstream, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    data = response.read()
                finally:
                    upstream.close()
                pattern = proxy.stall_pattern
                stall = (pattern is not None and self.command == "GET"
                         and pattern.search(self.path) and response.status == 200)
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_HEADERS and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not stall:
                    self.wfile.write(data)
                    return
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                proxy.stalled.set()
                proxy.release.wait(STALL_LIMIT)
                self.close_connection = True

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

        return Handler

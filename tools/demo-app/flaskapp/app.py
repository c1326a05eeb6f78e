"""The walk-through's hit counter: a Flask page that counts its visits in Redis.

Runs in the pyengine-demo/web image (tools/mkimage-app) as `python3 /app/app.py`; Redis is
reached by the name in REDIS_HOST (default "redis": the container's name on a user network, or
a --link alias on the default bridge).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from types import FrameType

import redis
from flask import Flask

REDIS_HOST = os.environ.get("REDIS_HOST", "redis")
# Not from REDIS_PORT: a classic `--link redis:redis` sets that to "tcp://172.17.0.2:6379".
REDIS_PORT = 6379
ATTEMPTS = 6  # Redis may still be starting when the first request comes: retry a few times
PAUSE = 0.5

app = Flask(__name__)
store = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=2)


def count_visit() -> int:
    """INCR the counter, retrying while Redis cannot be reached; the last error propagates."""
    for attempt in range(ATTEMPTS):
        try:
            return int(store.incr("hits"))
        except redis.exceptions.ConnectionError:
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(PAUSE)
    raise AssertionError("unreachable")


@app.route("/")
def hello() -> str:
    return f"Hello World! I have been seen {count_visit()} times.\n"


def _stop(signum: int, frame: FrameType | None) -> None:
    # PID 1 of its container: without a handler SIGTERM would be ignored and `stop` would wait
    # for its timeout and SIGKILL.
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "5000")))

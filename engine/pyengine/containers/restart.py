"""Restart policies, docker's: no, always, unless-stopped, on-failure[:N], with a backoff that
doubles from 100 ms (capped at a minute) and starts over once a run lasted 10 s."""

from __future__ import annotations

from dataclasses import dataclass

from pyengine.errors import InvalidArgument

POLICIES = ("no", "always", "unless-stopped", "on-failure")
FIRST_DELAY = 0.1
MAX_DELAY = 60.0
STEADY_RUN = 10.0  # a run this long resets the backoff


@dataclass(frozen=True)
class Policy:
    name: str = "no"
    max_retries: int = 0  # on-failure only; 0: unbounded

    @classmethod
    def parse(cls, text: str) -> Policy:
        name, _, count = (text or "no").partition(":")
        if name not in POLICIES:
            raise InvalidArgument(f"invalid restart policy '{text}'")
        if count and name != "on-failure":
            raise InvalidArgument(f"maximum retry count cannot be used with restart policy "
                                  f"'{name}'")
        try:
            retries = int(count) if count else 0
        except ValueError:
            raise InvalidArgument(f"invalid restart policy '{text}'") from None
        if retries < 0:
            raise InvalidArgument("maximum retry count cannot be negative")
        return cls(name, retries)

    def __str__(self) -> str:
        return f"{self.name}:{self.max_retries}" if self.max_retries else self.name

    def should_restart(self, exit_code: int, restart_count: int,
                       manually_stopped: bool) -> bool:
        """After an exit: restart the container?"""
        if manually_stopped or self.name == "no":
            return False
        if self.name == "on-failure":
            return exit_code != 0 and (not self.max_retries or
                                       restart_count < self.max_retries)
        return True

    def at_daemon_start(self, exit_code: int, restart_count: int,
                        manually_stopped: bool) -> bool:
        """A container found exited when the daemon starts: start it again? (always: even
        after a manual stop, as docker does; unless-stopped: unless stopped by hand)"""
        if self.name == "always":
            return True
        if self.name == "unless-stopped":
            return not manually_stopped
        return self.name == "on-failure" and self.should_restart(exit_code, restart_count,
                                                                 manually_stopped)


def delay(quick_restarts: int) -> float:
    """Seconds to wait before the next restart after `quick_restarts` short runs in a row."""
    return min(MAX_DELAY, FIRST_DELAY * (2 ** min(quick_restarts, 20)))

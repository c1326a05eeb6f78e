"""docker's --since/--until forms beyond test_engine_container_flags' (checked by hand
against docker 20.10's `logs --since`)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from pyengine.cli import timestamps
from pyengine.cli.context import CliError

NOW = 1_800_000_000 * 10**9
S = 10**9


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC while a test runs (the zone-less forms are local time)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.parametrize("text,expected", [
    ("", 0),
    ("0", 0),  # not a duration for docker: unix time 0
    ("10s", NOW - 10 * S),
    ("1h30m", NOW - 5400 * S),  # Go durations, several units
    ("500ms", NOW - S // 2),
    ("1.5h", NOW - 5400 * S),
    ("1700000000", 1_700_000_000 * S),
    ("1700000000.25", 1_700_000_000 * S + S // 4),
    ("2020-01-01T00:00:00Z", 1_577_836_800 * S),
    ("2020-01-01T01:00:00+01:00", 1_577_836_800 * S),
    ("2020-01-01T00:00:00.5Z", 1_577_836_800 * S + S // 2),
])
def test_forms(text: str, expected: int) -> None:
    assert timestamps.parse(text, "since", NOW) == expected


@pytest.mark.usefixtures("utc")
@pytest.mark.parametrize("text", ["2020-01-01", "2020-01-01T00", "2020-01-01T00:00",
                                  "2020-01-01T00:00:00"])
def test_cut_dates_are_local_time(text: str) -> None:
    # docker logs --since 2020-01-01 --until 2020-01-02 l1 -> exit 0
    assert timestamps.parse(text, "since", NOW) == 1_577_836_800 * S


@pytest.mark.parametrize("text", ["bogus", "10x", "2020-13-01"])
def test_bad_values(text: str) -> None:
    # docker logs --since bogus -> invalid value for "since": failed to parse value as time
    # or duration: "bogus"
    with pytest.raises(CliError, match=f'invalid value for "since": failed to parse value as '
                                       f'time or duration: "{text}"') as caught:
        timestamps.parse(text, "since", NOW)
    assert (caught.value.prefix, caught.value.usage) == ("", False)  # bare, exit 1

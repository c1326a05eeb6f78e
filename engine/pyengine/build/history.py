"""`created_by` texts of image history entries, as docker 20.10's classic builder writes them
(`/bin/sh -c #(nop)  ENV A=b`, `|1 A=b /bin/sh -c echo $A`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

NOP = "#(nop) "


def metadata(shell: Sequence[str], keyword: str, text: str) -> str:
    """A metadata step: docker writes `#(nop) ` then the instruction; most get a second space
    (its " " + keyword join), WORKDIR and COPY/ADD one (their own format)."""
    sep = " " if keyword in ("WORKDIR", "COPY", "ADD") else "  "
    body = f"{keyword} {text}" if text else keyword
    return f"{' '.join(shell)} {NOP.rstrip()}{sep}{body}"


def json_words(words: Sequence[str]) -> str:
    """docker's rendering of an exec-form list: `["a" "b"]` (Go's %q of each, space-joined)."""
    return "[" + " ".join(_quote(w) for w in words) + "]"


def run(shell: Sequence[str], command: Sequence[str], exec_form: bool,
        args: Mapping[str, str]) -> str:
    """RUN: `/bin/sh -c echo hi`; with build args in its environment `|N a=b ...` first."""
    words = list(command) if exec_form else [*shell, *command]
    text = " ".join(words)
    if args:
        pairs = " ".join(f"{k}={v}" for k, v in sorted(args.items()))
        return f"|{len(args)} {pairs} {text}"
    return text


def copy(shell: Sequence[str], keyword: str, detail: str, dest: str) -> str:
    """COPY/ADD: `/bin/sh -c #(nop) COPY dir:<hex> in /app `."""
    return " ".join(shell) + f" #(nop) {keyword} {detail} in {dest} "


def go_list(words: Sequence[str]) -> str:
    """Go's %v of a []string: `[/bin/bash -c]` (SHELL, VOLUME)."""
    return "[" + " ".join(words) + "]"


def healthcheck(test: Sequence[str], interval: int, timeout: int, start_period: int,
                retries: int) -> str:
    """HEALTHCHECK's text: Go's %q of docker's HealthConfig struct pointer,
    `&{["CMD-SHELL" "curl -f x"] "30s" "3s" "0s" '\x03'}`."""
    durations = " ".join(_quote(go_duration(ns)) for ns in (interval, timeout, start_period))
    return f"&{{{json_words(test)} {durations} {_rune(retries)}}}"


def go_duration(ns: int) -> str:
    """Go's time.Duration.String(): 0s, 500ms, 1.5s, 1m30s, 1h0m0s."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return sign + _trim(ns / size) + unit
    hours, rest = divmod(ns, 3600 * 1_000_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000_000)
    seconds = _trim(rest / 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _trim(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def _rune(value: int) -> str:
    """Go's %q of an int: a quoted rune, '\x03'."""
    if 0x20 <= value < 0x7F and chr(value) not in "'\\":
        return f"'{chr(value)}'"
    if value < 0x100:
        return f"'\\x{value:02x}'"
    return f"'\\u{value:04x}'"


def _quote(word: str) -> str:
    out = ['"']
    for ch in word:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)

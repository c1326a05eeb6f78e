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

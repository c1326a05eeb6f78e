"""Column output like Go's tabwriter as docker configures it (minwidth 10, padding 3)."""

from __future__ import annotations

MIN_WIDTH = 10
PADDING = 3


def render(rows: list[list[str]], min_width: int = MIN_WIDTH) -> str:
    """Align cells; every column but the last is padded to max(min_width, widest + PADDING)."""
    if not rows:
        return ""
    columns = max(len(r) for r in rows)
    widths = [0] * columns
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell) + PADDING, min_width)
    lines = []
    for row in rows:
        parts = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        parts.append(row[-1] if row else "")
        lines.append("".join(parts).rstrip())
    return "\n".join(lines) + "\n"

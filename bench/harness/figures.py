"""Percentiles and plain-text tables of figures."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank `p`th percentile (0 to 100) of `values`, which are not empty."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def latency_cells(seconds: Sequence[float]) -> list[str]:
    """p50, p99 and max in milliseconds, or dashes when there is no value."""
    if not seconds:
        return ["-", "-", "-"]
    ms = [1000 * value for value in seconds]
    return [f"{percentile(ms, 50):.1f}", f"{percentile(ms, 99):.1f}", f"{max(ms):.1f}"]


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A title, then the rows under their headers: the first column left-aligned, the others
    right-aligned, each as wide as its widest cell."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]

    def line(row: Sequence[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        return " | ".join([first, *rest])

    print(f"\n{title}")
    print(line([str(h) for h in headers]))
    print("-+-".join("-" * width for width in widths))
    for row in cells:
        print(line(row))

"""What every benchmark shares: a figure, timing helpers, the table and ``bench/results.json``."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Figure:
    """One measured figure, with the figure it is compared with (measured in the same run) when there is one."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None

    def as_dict(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "name": self.name,
            "value": round(self.value, 4),
            "unit": self.unit,
            "baseline": None if self.baseline is None else round(self.baseline, 4),
            "ratio": None if ratio is None else round(ratio, 4),
            "note": self.note,
        }


def timed(function: Callable[[], object], rounds: int) -> list[float]:
    """Seconds taken by each of ``rounds`` calls of ``function``."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def median_ms(samples: Iterable[float]) -> float:
    return statistics.median(samples) * 1000


def table(figures: Iterable[Figure]) -> str:
    """The figures as a plain-text table: name, value, baseline, ratio, note."""
    rows = [("figure", "value", "baseline", "ratio", "what it is")]
    for figure in figures:
        rows.append(
            (
                figure.name,
                f"{_number(figure.value)} {figure.unit}".strip(),
                "" if figure.baseline is None else f"{_number(figure.baseline)} {figure.unit}".strip(),
                "" if figure.ratio is None else f"{figure.ratio:.2f}",
                figure.note,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for index, row in enumerate(rows):
        numbers = (cell.rjust(width) for cell, width in zip(row[1:4], widths[1:], strict=True))
        cells = [row[0].ljust(widths[0]), *numbers]
        lines.append("  ".join([*cells, row[4]]).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write_results(figures: Iterable[Figure], path: Path) -> None:
    """``{"figures": [{"name", "value", "unit", "baseline", "ratio", "note"}]}``, for tools and CI logs."""
    path.write_text(json.dumps({"figures": [figure.as_dict() for figure in figures]}, indent=2) + "\n")


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0").rstrip(".") or "0"

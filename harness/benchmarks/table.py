"""The benchmark's one table (measure, figure, target, met) and its JSON twin."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MET, NOT_MET, NO_TARGET, NOT_MEASURED = "met", "NOT MET", "", "not measured"


@dataclass(frozen=True)
class Row:
    section: str
    measure: str
    figure: str
    target: str = ""
    status: str = NO_TARGET  # MET, NOT_MET, NO_TARGET or NOT_MEASURED
    key: str = ""  # the figure's name in results.json's "targets"
    value: float | None = None


def verdict(ok: bool | None) -> str:
    if ok is None:
        return NOT_MEASURED
    return MET if ok else NOT_MET


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 120:
        return f"{value:,.0f} s ({value / 60:.1f} min)"
    return f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"


def rate(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"


def megabytes(value: float) -> str:
    return f"{value / 1e9:.2f} GB" if value >= 1e9 else f"{value / 1e6:,.0f} MB"


def count(value: int) -> str:
    return f"{value:,}"


def render(rows: Sequence[Row], title: str, notes: Sequence[str] = ()) -> str:
    """A plain-text table, one line a row, sections separated by their name."""
    headers = ("measure", "figure", "target", "met")
    cells = [(r.measure, r.figure, r.target, r.status) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [title, "", line(headers), rule]
    section = None
    for row, cell in zip(rows, cells, strict=True):
        if row.section != section:
            if section is not None:
                out.append("")
            out.append(f"[{row.section}]")
            section = row.section
        out.append(line(cell))
    out.append(rule)
    met = sum(r.status == MET for r in rows)
    missed = [r.measure for r in rows if r.status == NOT_MET]
    unmeasured = [r.measure for r in rows if r.status == NOT_MEASURED]
    summary = f"targets met: {met} of {met + len(missed) + len(unmeasured)}"
    if missed:
        summary += "; not met: " + ", ".join(missed)
    if unmeasured:
        summary += "; not measured: " + ", ".join(unmeasured)
    out.append(summary)
    out.extend(notes)
    return "\n".join(out)


def targets_json(rows: Sequence[Row]) -> dict[str, dict[str, Any]]:
    return {
        r.key: {"measure": r.measure, "value": r.value, "target": r.target, "status": r.status}
        for r in rows
        if r.key and r.target
    }


def write_results(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=str) + "\n", "utf-8")
    tmp.replace(path)

"""Write the reports: one HTML page per quarter plus index.html, from an open DuckDB
connection (the warehouse inside Dagster, the serving file from the command line)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from npl_assets import settings
from npl_assets.report import data, render
from npl_assets.report.model import QuarterReport, parse_quarter


@dataclass(frozen=True)
class BuiltReport:
    report: QuarterReport
    path: Path
    markdown: str


def reports_dir() -> Path:
    return settings.data_dir() / "reports"


def _write(path: Path, text: str) -> None:
    """Write beside, then rename: a browser or a reader never sees half a page."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def build_reports(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path | None = None,
    only: Sequence[str] | None = None,
) -> list[BuiltReport]:
    """Render every quarter in the marts (or only the quarters in `only`) to
    `<out_dir>/<quarter>.html` and rewrite `index.html`, which links the quarters whose page
    exists in `out_dir`."""
    out_dir = out_dir or reports_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    data.check_marts(con)
    known = data.quarters(con)
    wanted = list(only) if only else known
    for quarter in wanted:
        parse_quarter(quarter)
    built: list[BuiltReport] = []
    for quarter in wanted:
        report = data.load_report(con, quarter)
        path = out_dir / f"{quarter}.html"
        _write(path, render.to_html(report, known))
        built.append(BuiltReport(report, path, render.to_markdown(report)))
    on_disk = {p.stem for p in out_dir.glob("*.html") if p.stem != "index"}
    entries = [e for e in data.index_entries(con) if e.quarter in on_disk]
    _write(out_dir / "index.html", render.index_html(entries))
    return built

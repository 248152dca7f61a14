"""The readable side of a validation: one markdown summary per suite, `<suite>.md` in the
quality folder (DataPaths.quality_dir()), whose path goes into the check's metadata."""

from __future__ import annotations

import os
from pathlib import Path

from npl_assets.quality.validation import Failure, ValidationReport

# Enough failing rows to act on; the quarantine table holds them all.
ROWS_SHOWN_PER_EXPECTATION = 50


def _cell(value: object) -> str:
    text = "null" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
        *("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows),
    ]
    return "\n".join(lines)


def _key_cells(failure: Failure, key_columns: tuple[str, ...]) -> list[object]:
    cells: list[object] = []
    for column in key_columns:
        value = failure.key.get(column)
        # A full sha256 makes tables unreadable; 16 hex digits still identify a document.
        if column == "sha256" and isinstance(value, str):
            value = value[:16]
        cells.append(value)
    return cells


def failures_markdown(
    failures: list[Failure], key_columns: tuple[str, ...], limit: int | None = None
) -> str:
    shown = failures if limit is None else failures[:limit]
    table = markdown_table(
        [*key_columns, "expectation", "column", "value", "severity"],
        [
            [*_key_cells(f, key_columns), f.expectation, f.column, f.observed, f.severity]
            for f in shown
        ],
    )
    if len(shown) < len(failures):
        table += f"\n\n… and {len(failures) - len(shown)} more."
    return table


def render_markdown(report: ValidationReport) -> str:
    hard, soft = len(report.hard_failures), len(report.soft_failures)
    status = "PASSED" if hard == 0 else "FAILED"
    lines = [
        f"# Data quality: suite `{report.suite}`",
        "",
        f"- validated at: {report.validated_at:%Y-%m-%d %H:%M:%S} UTC",
        f"- rows checked: {report.rows}",
        f"- hard (blocking) expectations: **{status}**, {hard} failing row-expectations"
        f" on {report.failed_rows('hard')} rows",
        f"- soft (warning) expectations: {soft} failing row-expectations"
        f" on {report.failed_rows('soft')} rows",
        "",
        "## Expectations",
        "",
        markdown_table(
            ["expectation", "GX expectation", "column", "severity", "checked", "failed", "result"],
            [
                [
                    o.rule.name,
                    o.rule.expectation
                    + (f" where {o.rule.condition.describe()}" if o.rule.condition else ""),
                    o.rule.column,
                    o.rule.severity,
                    o.checked,
                    o.failed,
                    "ok" if o.passed else ("FAIL" if o.rule.severity == "hard" else "warn"),
                ]
                for o in report.outcomes
            ],
        ),
    ]
    for outcome in report.outcomes:
        if outcome.passed:
            continue
        failures = [f for f in report.failures if f.expectation == outcome.rule.name]
        lines += [
            "",
            f"## {outcome.rule.name} ({outcome.rule.severity}): {outcome.failed} rows",
            "",
            outcome.rule.reason,
            "",
            failures_markdown(failures, report.key_columns, ROWS_SHOWN_PER_EXPECTATION),
        ]
    return "\n".join(lines) + "\n"


def write_report(report: ValidationReport, directory: Path) -> Path:
    """Write (replace) `<directory>/<suite>.md`; readers never see half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{report.suite}.md"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_markdown(report), encoding="utf-8")
    os.replace(tmp, path)
    return path

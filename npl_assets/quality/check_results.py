"""A validation report as Dagster check results: the failing rows (keys and values) in the
metadata, and a link to the markdown report. Shared by the quarantine asset (the listing suite)
and the standalone checks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from npl_assets.quality.rules import HARD, SOFT, Severity
from npl_assets.quality.summary import failures_markdown
from npl_assets.quality.validation import ValidationReport

# Metadata stays readable: the report file and the quarantine table hold the rest.
FAILURES_SHOWN = 100
FAILING_ROWS_IN_METADATA = 500

DAGSTER_SEVERITY = {HARD: dg.AssetCheckSeverity.ERROR, SOFT: dg.AssetCheckSeverity.WARN}


def check_result(
    report: ValidationReport,
    severity: Severity,
    report_path: Path,
    *,
    asset_key: dg.AssetKey | None = None,
    check_name: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dg.AssetCheckResult:
    """The outcome of `report`'s rules of one severity as a Dagster check result."""
    failures = report.failures_of(severity)
    rules = [o for o in report.outcomes if o.rule.severity == severity]
    failed_rows = report.failed_rows(severity)
    counts = {c["expectation"]: c["rows"] for c in report.reason_counts(severity)}
    summary = (
        f"{len(rules)} {severity} expectations over {report.rows} rows: all pass"
        if not failures
        else f"{failed_rows} of {report.rows} rows fail "
        + ", ".join(f"{name} ({n})" for name, n in counts.items())
    )
    metadata: dict[str, Any] = {
        "rows_checked": dg.MetadataValue.int(report.rows),
        "expectations": dg.MetadataValue.int(len(rules)),
        "failed_rows": dg.MetadataValue.int(failed_rows),
        "failed_expectations": dg.MetadataValue.json(counts),
        "failures": dg.MetadataValue.md(
            failures_markdown(failures, report.key_columns, FAILURES_SHOWN) if failures else "none"
        ),
        "failing_rows": dg.MetadataValue.json(
            [f.to_dict() for f in failures[:FAILING_ROWS_IN_METADATA]]
        ),
        "report": dg.MetadataValue.path(str(report_path)),
        **(extra or {}),
    }
    return dg.AssetCheckResult(
        passed=not failures,
        severity=DAGSTER_SEVERITY[severity],
        metadata=metadata,
        description=summary,
        asset_key=asset_key,
        check_name=check_name,
    )

"""Run a suite over a DataFrame with Great Expectations Core 1.x and get per-row failures back.

GX runs in an ephemeral context on a pandas data source, one whole-DataFrame batch per
validation, with `result_format="COMPLETE"` so that every failing row's index comes back
(`unexpected_index_list`). Failures are attributed to rows by that index, never by value.
An expectation that cannot run (a missing column, an error inside GX) raises
`QualitySuiteError`: a broken suite must never read as clean data.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from npl_assets.quality.rules import (
    HARD,
    LISTING_DATE,
    LISTING_DATE_COLUMNS,
    LISTING_MONEY_COLUMNS,
    LISTING_NUMBER_COLUMNS,
    LISTING_SUITE,
    LISTING_TEXT_COLUMNS,
    RESULT_DATE_COLUMNS,
    RESULT_SUITE,
    RESULT_TEXT_COLUMNS,
    SOFT,
    TOTAL_RESIDUAL,
    Rule,
    Severity,
    Suite,
)

GX_SEVERITY = {HARD: "critical", SOFT: "warning"}


class QualitySuiteError(RuntimeError):
    """The suite itself could not run on this frame: a bug to fix, not bad data."""


@dataclass(frozen=True)
class Failure:
    """One row failing one expectation."""

    key: Mapping[str, Any]
    expectation: str
    column: str
    # JSON-ready; {column: value} when the rule reports several columns.
    value: Any
    severity: Severity
    reason: str

    @property
    def sha256(self) -> str | None:
        return self.key.get("sha256")

    @property
    def title(self) -> str | None:
        return self.key.get("title")

    @property
    def observed(self) -> str:
        """The observed value as text, as stored in the quarantine table."""
        if isinstance(self.value, Mapping):
            return "; ".join(f"{k}={_text_of(v)}" for k, v in self.value.items())
        return _text_of(self.value)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.key,
            "expectation": self.expectation,
            "column": self.column,
            "value": self.observed,
            "severity": self.severity,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Outcome:
    """How one expectation fared over the whole frame."""

    rule: Rule
    checked: int
    failed: int

    @property
    def passed(self) -> bool:
        return self.failed == 0


@dataclass(frozen=True)
class ValidationReport:
    suite: str
    rows: int
    key_columns: tuple[str, ...]
    outcomes: tuple[Outcome, ...]
    failures: tuple[Failure, ...]
    validated_at: datetime

    def failures_of(self, severity: Severity) -> list[Failure]:
        return [f for f in self.failures if f.severity == severity]

    @property
    def hard_failures(self) -> list[Failure]:
        return self.failures_of(HARD)

    @property
    def soft_failures(self) -> list[Failure]:
        return self.failures_of(SOFT)

    def passed(self, severity: Severity = HARD) -> bool:
        return not self.failures_of(severity)

    def failed_keys(self, severity: Severity = HARD, column: str = "sha256") -> list[Any]:
        """The distinct keys (by default sha256) of rows failing a rule of `severity`."""
        keys = {f.key.get(column) for f in self.failures_of(severity)}
        return sorted(k for k in keys if k is not None)

    def failed_rows(self, severity: Severity = HARD) -> int:
        """How many distinct rows (by all key columns) fail a rule of `severity`."""
        return len({tuple(f.key.items()) for f in self.failures_of(severity)})

    @property
    def held_back(self) -> list[str]:
        """Listings that fail a hard rule: they do not reach the marts."""
        return self.failed_keys(HARD)

    def reason_counts(self, severity: Severity | None = None) -> list[dict[str, Any]]:
        """Failing rows per expectation, most frequent first."""
        counts = Counter(
            f.expectation for f in self.failures if severity is None or f.severity == severity
        )
        rules = {o.rule.name: o.rule for o in self.outcomes}
        return [
            {
                "expectation": name,
                "severity": rules[name].severity,
                "rows": count,
                "reason": rules[name].reason,
            }
            for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]

    def failures_frame(self, severity: Severity | None = None) -> pd.DataFrame:
        rows = [f.to_dict() for f in self.failures if severity is None or f.severity == severity]
        columns = [*self.key_columns, "expectation", "column", "value", "severity", "reason"]
        return pd.DataFrame(rows, columns=columns)


# --- preparing frames --------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _text(value: Any) -> str | None:
    """Blank text counts as missing: an empty seller is no seller."""
    if _missing(value):
        return None
    text = str(value)
    return text if text.strip() else None


def _decimal(value: Any) -> Decimal | None:
    if _missing(value):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        # str() first: Decimal(float) would carry the binary expansion of 0.1 etc.
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None


def _numbers(series: pd.Series) -> pd.Series:
    """Floats for GX; text that is not a number becomes NaN and fails the presence rule,
    whose report shows the original text."""
    return pd.to_numeric(series.map(lambda v: None if _missing(v) else v), errors="coerce").astype(
        "float64"
    )


def _residual(principal: Any, interest: Any, total: Any) -> float:
    parts = [_decimal(principal), _decimal(interest), _decimal(total)]
    if any(p is None for p in parts):
        return math.nan
    p, i, t = parts
    return float(p + i - t)


def _prepare(
    frame: pd.DataFrame, text: Sequence[str], numbers: Sequence[str], dates: Sequence[str]
) -> pd.DataFrame:
    out = frame.reset_index(drop=True).copy()
    for column in text:
        if column in out:
            out[column] = out[column].map(_text).astype(object)
    for column in numbers:
        if column in out:
            out[column] = _numbers(out[column])
    for column in dates:
        if column in out:
            # Unparseable dates become NaT and fail their presence rule (the report shows
            # the original value).
            out[column] = pd.to_datetime(out[column], errors="coerce")
    return out


def prepare_listings(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed copy for GX: numbers as floats, dates as datetimes, blanks as nulls, plus two
    derived columns: `listing_date` (the footer's publication date, else the index date when
    the frame has `listing_date` or `list_date`, as stg_listings does) and the exact residual
    principal + interest - total (computed in Decimal, then a float)."""
    out = _prepare(
        frame,
        LISTING_TEXT_COLUMNS,
        (*LISTING_MONEY_COLUMNS, *LISTING_NUMBER_COLUMNS),
        LISTING_DATE_COLUMNS,
    )
    if "publication_date" in out:
        fallback = next((c for c in (LISTING_DATE, "list_date") if c in out), None)
        published = out["publication_date"]
        if fallback is not None:
            published = published.fillna(pd.to_datetime(out[fallback], errors="coerce"))
        out[LISTING_DATE] = published
    amounts = ("unpaid_principal_yuan", "unpaid_interest_yuan", "unpaid_total_yuan")
    if all(c in frame for c in amounts):
        source = frame.reset_index(drop=True)
        out[TOTAL_RESIDUAL] = [
            _residual(p, i, t) for p, i, t in zip(*(source[c] for c in amounts), strict=True)
        ]
    return out


def prepare_results(frame: pd.DataFrame) -> pd.DataFrame:
    return _prepare(frame, RESULT_TEXT_COLUMNS, (), RESULT_DATE_COLUMNS)


# --- running GX --------------------------------------------------------------------------------


def _gx() -> tuple[Any, Any, Any]:
    """Import GX only when a suite runs: the import costs 2-3 s. Never in a background thread
    while the run goes on: GX imports SQLAlchemy's ORM, and Dagster's storage, using SQLAlchemy
    in the main thread meanwhile, then met half-initialised modules (AttributeError in
    sqlalchemy.orm.base, runs failed)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    return gx, gxe, Column


def _expectation(rule: Rule, gxe: Any, column: Any) -> Any:
    kwargs = dict(rule.kwargs)
    if rule.condition is not None:
        left = column(rule.condition.column)
        value = rule.condition.value
        kwargs["row_condition"] = left < value if rule.condition.operator == "<" else left != value
    return getattr(gxe, rule.expectation)(
        **kwargs, severity=GX_SEVERITY[rule.severity], meta={"rule": rule.name}
    )


def _exception_messages(info: Any) -> list[str]:
    """GX reports an expectation that could not run in `exception_info`, either flat or keyed
    by metric."""
    if not isinstance(info, Mapping):
        return []
    if info.get("raised_exception"):
        return [str(info.get("exception_message"))]
    return [
        str(value.get("exception_message"))
        for value in info.values()
        if isinstance(value, Mapping) and value.get("raised_exception")
    ]


def _json_value(value: Any, column: str) -> Any:
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        midnight = value.time() == datetime.min.time()
        return value.date().isoformat() if midnight else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if column.endswith("_yuan") and not isinstance(value, str | bool):
        amount = _decimal(value)
        return f"{amount:.2f}" if amount is not None else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text_of(value: Any) -> str:
    return "null" if value is None else str(value)


def _cell(prepared: pd.DataFrame, original: pd.DataFrame, row: int, column: str) -> Any:
    source = original if column in original else prepared
    return _json_value(source.at[row, column], column)


def run_suite(
    suite: Suite, prepared: pd.DataFrame, original: pd.DataFrame | None = None
) -> ValidationReport:
    """Validate `prepared` (a typed frame) against `suite`; values in failures are read from
    `original` (same rows, same order) where it has the column, so they show as received."""
    prepared = prepared.reset_index(drop=True)
    original = prepared if original is None else original.reset_index(drop=True)
    if len(original) != len(prepared):
        raise ValueError("original and prepared frames differ in length")
    needed = {c for rule in suite.rules for c in rule.required_columns} | set(suite.key_columns)
    absent = sorted(needed - set(prepared.columns))
    if absent:
        raise QualitySuiteError(f"suite {suite.name}: the data lacks columns {', '.join(absent)}")

    gx, gxe, column = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Progress bars would flood the run logs.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("pandas")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": prepared})
    )
    gx_suite = gx.ExpectationSuite(name=suite.name)
    for rule in suite.rules:
        gx_suite.add_expectation(_expectation(rule, gxe, column))
    validated_at = datetime.now(UTC).replace(tzinfo=None)
    result = batch.validate(gx_suite, result_format="COMPLETE")

    rules = {r.name: r for r in suite.rules}
    outcomes: dict[str, Outcome] = {}
    failures: list[Failure] = []
    errors: list[str] = []
    for item in result.results:
        rule = rules[item.expectation_config.meta["rule"]]
        messages = _exception_messages(item.exception_info)
        if messages:
            errors.append(f"{rule.name}: {'; '.join(messages)}")
            continue
        details = item.result or {}
        rows = list(details.get("unexpected_index_list") or [])
        if not item.success and not rows:
            errors.append(f"{rule.name}: failed without naming the failing rows ({details})")
            continue
        checked = int(details.get("element_count") or 0) - int(details.get("missing_count") or 0)
        outcomes[rule.name] = Outcome(rule, checked, len(rows))
        for row in sorted(rows):
            values = {c: _cell(prepared, original, row, c) for c in rule.report_columns}
            failures.append(
                Failure(
                    key={c: _cell(prepared, original, row, c) for c in suite.key_columns},
                    expectation=rule.name,
                    column=rule.column,
                    value=values if len(values) > 1 else next(iter(values.values())),
                    severity=rule.severity,
                    reason=rule.reason,
                )
            )
    if errors:
        raise QualitySuiteError(f"suite {suite.name} could not run: " + " | ".join(errors))
    order = {r.name: i for i, r in enumerate(suite.rules)}
    failures.sort(key=lambda f: (str(f.key.get(suite.key_columns[0])), order[f.expectation]))
    return ValidationReport(
        suite=suite.name,
        rows=len(prepared),
        key_columns=suite.key_columns,
        outcomes=tuple(outcomes[r.name] for r in suite.rules),
        failures=tuple(failures),
        validated_at=validated_at,
    )


def validate_listings(
    frame: pd.DataFrame, *, suite: Suite = LISTING_SUITE, extra_rules: Iterable[Rule] = ()
) -> ValidationReport:
    """Run the listing suite (hard and soft rules) over rows shaped like `raw.listings`."""
    return run_suite(suite.plus(list(extra_rules)), prepare_listings(frame), frame)


def validate_results(frame: pd.DataFrame, *, suite: Suite = RESULT_SUITE) -> ValidationReport:
    """Run the result suite over rows shaped like `raw.results`."""
    return run_suite(suite, prepare_results(frame), frame)

"""The expectation suites, kept as code: plain data, no Great Expectations import.

Each `Rule` names one GX Core 1.x expectation class and its arguments; `validation` builds the
GX objects from it. A rule's `name` is the stable identifier written to `raw.listing_quarantine`
and shown in the reports, so renaming one is a data change.

Severity: "hard" rules block (a listing failing one is held back from the marts); "soft" rules
warn. The thresholds follow the real 2023 data (/work/shared/data/yindeng_2023_*.csv):
- 7 real listings lack 加权平均逾期天数 and 12 are below 90 days (minimum 78), so "present" and
  "at least 90" are soft; the plausible range 0..20,000 days is hard.
- Batch number: every 2023 title names a 期 (one as 第一期, which the parser turns into 1), but
  single-borrower corporate items ("关于2026年{company}[等N户]不良贷款转让项目", asset type 对公)
  legitimately have none, so the rule applies to every listing whose asset type is not 对公
  (an unknown asset type included).
- Result project codes: the issue said `NPL\\d{11}`, but the real codes are NPL + 10 digits
  (NPL + 4-digit year + 6-digit serial, e.g. NPL2023003560) or the older 8 digits (2-digit year +
  6-digit serial, e.g. 22000096), and one real 2023 result is published as NLP2023001161 (a
  transposed prefix, printed so in the PDF). The hard rule accepts the structure with either
  prefix; a soft rule flags anything but the canonical NPL prefix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from npl_assets.domain import STARTING_PRICE_DISCLOSED_UNTIL

Severity = Literal["hard", "soft"]
HARD: Severity = "hard"
SOFT: Severity = "soft"

# 0.01 元: principal + interest may differ from the published total by a rounding cent.
TOTAL_TOLERANCE_YUAN = 0.01
MAX_OVERDUE_DAYS = 20_000
MIN_TYPICAL_OVERDUE_DAYS = 90
CORPORATE_ASSET_TYPE = "对公"
PROJECT_CODE_STRUCTURE = r"^(?:N(?:PL|LP)20\d{2}|\d{2})\d{6}$"
PROJECT_CODE_CANONICAL = r"^(?:NPL20\d{2}|\d{2})\d{6}$"


@dataclass(frozen=True)
class Condition:
    """Restrict a rule to the rows where `column <operator> value` (a GX row condition)."""

    column: str
    operator: Literal["<", "!="]
    value: str

    def describe(self) -> str:
        return f"{self.column} {self.operator} {self.value!r}"


@dataclass(frozen=True)
class Rule:
    """One expectation: `expectation` is a class name in `great_expectations.expectations`."""

    name: str
    expectation: str
    kwargs: Mapping[str, Any] = field(hash=False)
    severity: Severity
    reason: str
    # The column a failure is filed under, and the columns whose values are reported.
    column: str
    report_columns: tuple[str, ...]
    condition: Condition | None = None

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Every column the rule reads: a frame lacking one is a broken suite, not bad data."""
        names = [
            value
            for key in ("column", "column_A", "column_B")
            if isinstance(value := self.kwargs.get(key), str)
        ]
        if self.condition is not None:
            names.append(self.condition.column)
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Suite:
    name: str
    rules: tuple[Rule, ...]
    # Columns that identify a row in failures (listings: sha256 and title).
    key_columns: tuple[str, ...]

    def __post_init__(self) -> None:
        names = [r.name for r in self.rules]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"suite {self.name}: duplicate rule names {sorted(duplicates)}")

    def only(self, severity: Severity, name: str | None = None) -> Suite:
        return Suite(
            name or f"{self.name}_{severity}",
            tuple(r for r in self.rules if r.severity == severity),
            self.key_columns,
        )

    def plus(self, rules: Sequence[Rule], name: str | None = None) -> Suite:
        return Suite(name or self.name, (*self.rules, *rules), self.key_columns)


# --- rule builders -----------------------------------------------------------------------------


def not_null(
    column: str,
    severity: Severity,
    reason: str,
    *,
    name: str | None = None,
    condition: Condition | None = None,
) -> Rule:
    return Rule(
        name=name or f"{column}_present",
        expectation="ExpectColumnValuesToNotBeNull",
        kwargs={"column": column},
        severity=severity,
        reason=reason,
        column=column,
        report_columns=(column,),
        condition=condition,
    )


def between(
    column: str,
    severity: Severity,
    reason: str,
    *,
    name: str,
    min_value: float | None = None,
    max_value: float | None = None,
    strict_min: bool = False,
    report_as: str | None = None,
    report_columns: tuple[str, ...] | None = None,
) -> Rule:
    """Nulls are not checked here (GX skips them); presence is a rule of its own."""
    kwargs: dict[str, Any] = {"column": column}
    if min_value is not None:
        kwargs.update(min_value=min_value, strict_min=strict_min)
    if max_value is not None:
        kwargs["max_value"] = max_value
    return Rule(
        name=name,
        expectation="ExpectColumnValuesToBeBetween",
        kwargs=kwargs,
        severity=severity,
        reason=reason,
        column=report_as or column,
        report_columns=report_columns or (column,),
    )


def at_least(larger: str, smaller: str, severity: Severity, reason: str, *, name: str) -> Rule:
    """`larger >= smaller` row by row; a row missing either value is not checked here."""
    return Rule(
        name=name,
        expectation="ExpectColumnPairValuesAToBeGreaterThanB",
        kwargs={
            "column_A": larger,
            "column_B": smaller,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
        severity=severity,
        reason=reason,
        column=f"{smaller},{larger}",
        report_columns=(smaller, larger),
    )


def unique(column: str, severity: Severity, reason: str) -> Rule:
    return Rule(
        name=f"{column}_unique",
        expectation="ExpectColumnValuesToBeUnique",
        kwargs={"column": column},
        severity=severity,
        reason=reason,
        column=column,
        report_columns=(column,),
    )


def matches(column: str, regex: str, severity: Severity, reason: str, *, name: str) -> Rule:
    return Rule(
        name=name,
        expectation="ExpectColumnValuesToMatchRegex",
        kwargs={"column": column, "regex": regex},
        severity=severity,
        reason=reason,
        column=column,
        report_columns=(column,),
    )


def not_in(
    column: str,
    values: Sequence[str],
    severity: Severity,
    reason: str,
    *,
    name: str,
    report_columns: tuple[str, ...] | None = None,
) -> Rule:
    return Rule(
        name=name,
        expectation="ExpectColumnValuesToNotBeInSet",
        kwargs={"column": column, "value_set": list(values)},
        severity=severity,
        reason=reason,
        column=column,
        report_columns=report_columns or (column,),
    )


def is_null(column: str, severity: Severity, reason: str, *, name: str) -> Rule:
    return Rule(
        name=name,
        expectation="ExpectColumnValuesToBeNull",
        kwargs={"column": column},
        severity=severity,
        reason=reason,
        column=column,
        report_columns=(column,),
    )


# --- listings ----------------------------------------------------------------------------------

LISTING_MONEY_COLUMNS = (
    "unpaid_principal_yuan",
    "unpaid_interest_yuan",
    "unpaid_total_yuan",
    "other_fees_yuan",
    "max_single_borrower_unpaid_yuan",
    "avg_borrower_unpaid_yuan",
    "weighted_avg_credit_limit_yuan",
    "starting_price_yuan",
    "bid_increment_yuan",
)
LISTING_DATE_COLUMNS = ("transaction_base_date", "publication_date", "bid_date")
# Derived in `validation.prepare_listings`, as stg_listings derives it: the PDF footer's
# publication date, else the index date of the document (a `listing_date` or `list_date` column
# of the frame, when it has one).
LISTING_DATE = "listing_date"
LISTING_NUMBER_COLUMNS = (
    "loans",
    "borrowers",
    "batch_year",
    "batch_no",
    "weighted_avg_overdue_days",
)
LISTING_TEXT_COLUMNS = ("sha256", "title", "seller", "asset_type", "asset_type_wording")
# Derived in `validation.prepare_listings`: principal + interest - total, computed exactly.
TOTAL_RESIDUAL = "total_residual_yuan"

# What the marts cannot do without (a listing lacking one is held back): its identity, its size
# and the date that places it in a quarter.
_REQUIRED_LISTING_FIELDS = {
    "sha256": "document hash (sha256) is missing",
    "title": "title is missing",
    "seller": "seller (出让方) is missing",
    "unpaid_total_yuan": "unpaid total (未偿本息总额) is missing",
    LISTING_DATE: "publication date is missing from both the PDF footer and the index "
    "(the quarter depends on it)",
}
# Descriptive fields: a listing without one still counts, flagged so that someone looks.
_DESCRIPTIVE_LISTING_FIELDS = {
    "loans": "number of loans (资产笔数) is missing",
    "borrowers": "number of borrowers (借款人户数) is missing",
    "unpaid_principal_yuan": "unpaid principal (未偿本金总额) is missing",
    "unpaid_interest_yuan": "unpaid interest (未偿利息总额) is missing",
    "transaction_base_date": "transaction base date (交易基准日) is missing",
    "bid_date": "bid date (竞价日) is missing",
}
# The parser's asset type for a title wording its table does not know.
UNKNOWN_ASSET_TYPE = "其他"

_NON_NEGATIVE_AMOUNTS = {
    "unpaid_principal_yuan": "unpaid principal (未偿本金总额) is negative",
    "unpaid_interest_yuan": "unpaid interest (未偿利息总额) is negative",
    "unpaid_total_yuan": "unpaid total (未偿本息总额) is negative",
    "other_fees_yuan": "other fees (其他费用) are negative",
    "starting_price_yuan": "starting price (起始价) is negative",
}

LISTING_SUITE = Suite(
    name="listings",
    key_columns=("sha256", "title"),
    rules=(
        unique("sha256", HARD, "more than one row for the same document (sha256)"),
        *(not_null(column, HARD, reason) for column, reason in _REQUIRED_LISTING_FIELDS.items()),
        *(not_null(column, SOFT, reason) for column, reason in _DESCRIPTIVE_LISTING_FIELDS.items()),
        not_in(
            "asset_type",
            [UNKNOWN_ASSET_TYPE],
            SOFT,
            "the title's asset-type wording is not in the parser's table (asset type 其他): "
            "extend the table with the wording shown",
            name="asset_type_wording_known",
            report_columns=("asset_type", "asset_type_wording"),
        ),
        is_null(
            "unread_fields",
            SOFT,
            "a value did not read as its type and is null; its raw text is shown",
            name="all_values_read",
        ),
        not_null(
            "batch_no",
            SOFT,
            "batch number (期数) is missing; only corporate single-borrower items "
            f"(asset type {CORPORATE_ASSET_TYPE}) may lack one",
            condition=Condition("asset_type", "!=", CORPORATE_ASSET_TYPE),
        ),
        *(
            between(column, HARD, reason, name=f"{column}_non_negative", min_value=0)
            for column, reason in _NON_NEGATIVE_AMOUNTS.items()
        ),
        between(
            "unpaid_total_yuan",
            HARD,
            "unpaid total (未偿本息总额) is zero",
            name="unpaid_total_yuan_positive",
            min_value=0,
            strict_min=True,
        ),
        between(
            TOTAL_RESIDUAL,
            HARD,
            f"principal + interest differs from the unpaid total by more than "
            f"{TOTAL_TOLERANCE_YUAN} 元",
            name="total_equals_principal_plus_interest",
            min_value=-TOTAL_TOLERANCE_YUAN,
            max_value=TOTAL_TOLERANCE_YUAN,
            report_as="unpaid_total_yuan",
            report_columns=(
                "unpaid_principal_yuan",
                "unpaid_interest_yuan",
                "unpaid_total_yuan",
            ),
        ),
        at_least(
            "unpaid_total_yuan",
            "starting_price_yuan",
            HARD,
            "starting price (起始价) is above the unpaid total",
            name="starting_price_at_most_unpaid_total",
        ),
        not_null(
            "starting_price_yuan",
            HARD,
            f"starting price (起始价) is missing on a listing published before "
            f"{STARTING_PRICE_DISCLOSED_UNTIL} (only later ones may omit it)",
            name="starting_price_present_before_2025_10_27",
            condition=Condition(LISTING_DATE, "<", STARTING_PRICE_DISCLOSED_UNTIL),
        ),
        between(
            "weighted_avg_overdue_days",
            HARD,
            f"weighted overdue days outside 0..{MAX_OVERDUE_DAYS:,}",
            name="overdue_days_in_range",
            min_value=0,
            max_value=MAX_OVERDUE_DAYS,
        ),
        between(
            "loans",
            HARD,
            "number of loans (资产笔数) is not positive",
            name="loans_positive",
            min_value=0,
            strict_min=True,
        ),
        between(
            "borrowers",
            HARD,
            "number of borrowers (借款人户数) is not positive",
            name="borrowers_positive",
            min_value=0,
            strict_min=True,
        ),
        at_least(
            "loans",
            "borrowers",
            HARD,
            "more borrowers than loans",
            name="borrowers_at_most_loans",
        ),
        at_least(
            LISTING_DATE,
            "transaction_base_date",
            HARD,
            "transaction base date (交易基准日) is after the publication date",
            name="base_date_not_after_publication",
        ),
        at_least(
            "bid_date",
            LISTING_DATE,
            HARD,
            "publication date is after the bid date (竞价日)",
            name="publication_not_after_bid_date",
        ),
        not_null(
            "publication_date",
            SOFT,
            "publication date not read from the PDF footer (the index date stands in)",
        ),
        not_null(
            "weighted_avg_overdue_days",
            SOFT,
            "weighted overdue days (加权平均逾期天数) not disclosed (7 real 2023 listings)",
            name="overdue_days_present",
        ),
        between(
            "weighted_avg_overdue_days",
            SOFT,
            f"weighted overdue days below {MIN_TYPICAL_OVERDUE_DAYS} (real 2023 minimum: 78)",
            name="overdue_days_at_least_90",
            min_value=MIN_TYPICAL_OVERDUE_DAYS,
        ),
    ),
)


def not_quarantined_rule(quarantined: Sequence[str]) -> Rule:
    """What flows to the marts must hold no listing that the quarantine holds back."""
    return not_in(
        "sha256",
        sorted(quarantined),
        HARD,
        "a quarantined listing reached stg_listings (the quarantine filter is missing)",
        name="not_quarantined",
    )


# --- results -----------------------------------------------------------------------------------

RESULT_DATE_COLUMNS = ("agreement_signed_date", "publication_date")
RESULT_TEXT_COLUMNS = ("sha256", "title", "project_name", "project_code", "seller", "buyer")

RESULT_SUITE = Suite(
    name="results",
    key_columns=("sha256", "title"),
    rules=(
        unique("sha256", HARD, "more than one row for the same document (sha256)"),
        not_null("sha256", HARD, "document hash (sha256) is missing"),
        not_null("title", HARD, "title is missing"),
        not_null("project_name", HARD, "project name (项目名称) is missing"),
        not_null("seller", HARD, "seller (出让方全称) is missing"),
        not_null("buyer", HARD, "buyer (受让方全称) is missing"),
        not_null("project_code", HARD, "project code (项目编号) is missing"),
        is_null(
            "unread_fields",
            SOFT,
            "a value did not read as its type and is null; its raw text is shown",
            name="all_values_read",
        ),
        matches(
            "project_code",
            PROJECT_CODE_STRUCTURE,
            HARD,
            "project code (项目编号) is neither NPL + year + 6 digits nor the older 8 digits",
            name="project_code_format",
        ),
        at_least(
            "publication_date",
            "agreement_signed_date",
            HARD,
            "agreement date (转让协议签署日期) is after the publication date",
            name="agreement_not_after_publication",
        ),
        matches(
            "project_code",
            PROJECT_CODE_CANONICAL,
            SOFT,
            "project code prefix is not NPL (published with a typo, e.g. NLP2023001161)",
            name="project_code_npl_prefix",
        ),
    ),
)

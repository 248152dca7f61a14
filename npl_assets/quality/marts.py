"""Reconciliation suites for the dbt marts.

The chain is reconciled link by link, each link with a GX suite over a frame that SQL builds
by a full outer join (so a group present on one side only shows up as a difference):
- projects vs stg_listings: every announcement is merged into exactly one project, and a
  project's figures are those of its latest announcement;
- seller_quarterly_metrics and market_quarterly_metrics vs projects: counts and sums per group
  equal the sums over the projects of that group; the weighted overdue days lie within the min
  and max of the projects it weights; the starting-price ratio lies in (0, 1];
- buyer_league vs projects and int_result_matches: per buyer, the projects and sums bought equal
  those of the sold projects, and the sales counted equal the sales matched.

Table names follow dbt_project.yml: every model lands in schema `main` under its own name.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from npl_assets.quality.rules import HARD, Rule, Suite, between
from npl_assets.quality.validation import ValidationReport, run_suite

# Sums are DECIMAL and exact; the tolerance only absorbs the double conversion.
SUM_TOLERANCE = 0.005
NULL_KEY = "(null)"

# measure -> its aggregate over `projects` (the macro quarterly_measures computes the same)
METRIC_MEASURES: Mapping[str, str] = {
    "listings": "count(*)",
    "announcements": "sum(announcements)",
    "unpaid_principal_yuan": "sum(unpaid_principal_yuan)",
    "unpaid_interest_yuan": "sum(unpaid_interest_yuan)",
    "unpaid_total_yuan": "sum(unpaid_total_yuan)",
    "borrowers": "sum(borrowers)",
    "loans": "sum(loans)",
    "starting_price_yuan": "sum(starting_price_yuan)",
    "sold_listings": "count(*) filter (where sold)",
}
SELLER_KEYS: Mapping[str, str] = {"seller": "seller", "quarter": "first_listing_quarter"}
MARKET_KEYS: Mapping[str, str] = {
    "quarter": "first_listing_quarter",
    "seller_type": "seller_type",
    "asset_type": "coalesce(asset_type, '未分类')",
}
PROJECT_FIGURES = (
    "unpaid_principal_yuan",
    "unpaid_interest_yuan",
    "unpaid_total_yuan",
    "starting_price_yuan",
    "borrowers",
    "loans",
)


def _key(expr: str) -> str:
    return f"coalesce(cast({expr} as varchar), '{NULL_KEY}')"


def metrics_reconciliation_sql(mart: str, keys: Mapping[str, str]) -> str:
    """One row per group of `main.<mart>` or of `main.projects` grouped like it."""
    names = list(keys)
    diffs = ",\n".join(
        f"mart.{m} as {m}, inputs.{m} as inputs_{m}, "
        f"cast(coalesce(mart.{m}, 0) - coalesce(inputs.{m}, 0) as double) as {m}_diff"
        for m in METRIC_MEASURES
    )
    overdue = "weighted_avg_overdue_days is not null and unpaid_total_yuan is not null"
    return f"""
        with inputs as (
            select
                {", ".join(f"{_key(expr)} as {name}" for name, expr in keys.items())},
                {", ".join(f"{expr} as {m}" for m, expr in METRIC_MEASURES.items())},
                min(weighted_avg_overdue_days) filter (where {overdue}) as min_overdue_days,
                max(weighted_avg_overdue_days) filter (where {overdue}) as max_overdue_days
            from main.projects
            group by all
        ),
        mart as (
            select
                * replace ({", ".join(f"{_key(name)} as {name}" for name in names)}),
                count(*) over (partition by {", ".join(_key(name) for name in names)})
                    as rows_per_key
            from main.{mart}
        )
        select
            {", ".join(f"coalesce(mart.{n}, inputs.{n}) as {n}" for n in names)},
            {diffs},
            mart.weighted_avg_overdue_days,
            inputs.min_overdue_days as inputs_min_overdue_days,
            inputs.max_overdue_days as inputs_max_overdue_days,
            cast(mart.weighted_avg_overdue_days - inputs.min_overdue_days as double)
                as overdue_above_min,
            cast(inputs.max_overdue_days - mart.weighted_avg_overdue_days as double)
                as overdue_below_max,
            case
                when mart.{names[0]} is null then 0
                when (mart.weighted_avg_overdue_days is null)
                    <> (inputs.min_overdue_days is null) then 1
                else 0
            end as overdue_presence_mismatch,
            mart.starting_price_ratio,
            coalesce(mart.rows_per_key, 0) as rows_per_key
        from mart
        full outer join inputs
            on {" and ".join(f"mart.{n} = inputs.{n}" for n in names)}
        order by {", ".join(names)}
    """


def metrics_suite(mart: str, keys: Mapping[str, str]) -> Suite:
    reconcile = [
        between(
            f"{m}_diff",
            HARD,
            f"{m} differs from the sum over the projects of the group "
            "(a group missing on one side differs by its whole amount)",
            name=f"{m}_reconciles_with_projects",
            min_value=-SUM_TOLERANCE,
            max_value=SUM_TOLERANCE,
            report_as=m,
            report_columns=(m, f"inputs_{m}"),
        )
        for m in METRIC_MEASURES
    ]
    overdue_columns = (
        "weighted_avg_overdue_days",
        "inputs_min_overdue_days",
        "inputs_max_overdue_days",
    )
    rules: list[Rule] = [
        between(
            "rows_per_key",
            HARD,
            f"more than one row per {', '.join(keys)}",
            name="one_row_per_group",
            max_value=1,
        ),
        *reconcile,
        between(
            "overdue_above_min",
            HARD,
            "weighted overdue days below the smallest of the projects it weights",
            name="weighted_overdue_days_at_least_min",
            min_value=-SUM_TOLERANCE,
            report_as="weighted_avg_overdue_days",
            report_columns=overdue_columns,
        ),
        between(
            "overdue_below_max",
            HARD,
            "weighted overdue days above the largest of the projects it weights",
            name="weighted_overdue_days_at_most_max",
            min_value=-SUM_TOLERANCE,
            report_as="weighted_avg_overdue_days",
            report_columns=overdue_columns,
        ),
        between(
            "overdue_presence_mismatch",
            HARD,
            "weighted overdue days present without inputs, or missing despite inputs",
            name="weighted_overdue_days_present_iff_inputs",
            max_value=0,
            report_as="weighted_avg_overdue_days",
            report_columns=overdue_columns,
        ),
        between(
            "starting_price_ratio",
            HARD,
            "starting-price ratio (起始价/未偿本息) outside (0, 1]",
            name="starting_price_ratio_in_range",
            min_value=0,
            strict_min=True,
            max_value=1,
        ),
    ]
    return Suite(name=mart, rules=tuple(rules), key_columns=tuple(keys))


def projects_reconciliation_sql() -> str:
    """One row per project of `main.projects` or project_id of `main.stg_listings`."""
    figures = ",\n".join(
        f"projects.{m}, latest.{m} as latest_{m}, "
        f"cast(coalesce(projects.{m}, 0) - coalesce(latest.{m}, 0) as double) as {m}_diff"
        for m in PROJECT_FIGURES
    )
    return f"""
        with listed as (
            select project_id, count(*) as announcements
            from main.stg_listings
            group by project_id
        )
        select
            coalesce(projects.project_id, listed.project_id) as project_id,
            projects.project_name,
            projects.latest_sha256,
            projects.announcements,
            listed.announcements as inputs_announcements,
            cast(
                coalesce(projects.announcements, 0) - coalesce(listed.announcements, 0)
                as double
            ) as announcements_diff,
            {figures}
        from main.projects as projects
        full outer join listed on listed.project_id = projects.project_id
        left join main.stg_listings as latest on latest.sha256 = projects.latest_sha256
        order by 1
    """


PROJECTS_SUITE = Suite(
    name="projects",
    key_columns=("project_id", "project_name"),
    rules=(
        between(
            "announcements_diff",
            HARD,
            "announcements merged into the project differ from its rows in stg_listings "
            "(a listing in no project, or a project with no listing)",
            name="announcements_reconcile_with_stg_listings",
            min_value=-SUM_TOLERANCE,
            max_value=SUM_TOLERANCE,
            report_as="announcements",
            report_columns=("announcements", "inputs_announcements"),
        ),
        *(
            between(
                f"{m}_diff",
                HARD,
                f"{m} differs from the project's latest announcement in stg_listings",
                name=f"{m}_equals_latest_announcement",
                min_value=-SUM_TOLERANCE,
                max_value=SUM_TOLERANCE,
                report_as=m,
                report_columns=(m, f"latest_{m}", "latest_sha256"),
            )
            for m in PROJECT_FIGURES
        ),
    ),
)

SELLER_METRICS_SUITE = metrics_suite("seller_quarterly_metrics", SELLER_KEYS)
MARKET_METRICS_SUITE = metrics_suite("market_quarterly_metrics", MARKET_KEYS)


# measure -> its aggregate over the sold `projects` of one buyer
BUYER_MEASURES: Mapping[str, str] = {
    "projects_with_listing": "count(*)",
    "unpaid_total_yuan": "sum(unpaid_total_yuan)",
    "unpaid_principal_yuan": "sum(unpaid_principal_yuan)",
    "borrowers": "sum(borrowers)",
    "loans": "sum(loans)",
    "starting_price_yuan": "sum(starting_price_yuan)",
}
UNDISCLOSED_BUYER = "未披露"


def buyer_league_reconciliation_sql() -> str:
    """One row per buyer of `main.buyer_league`, of sold `main.projects` or of sales."""
    buyer = f"coalesce(buyer, '{UNDISCLOSED_BUYER}')"
    diffs = ",\n".join(
        f"league.{m} as {m}, bought.{m} as inputs_{m}, "
        f"cast(coalesce(league.{m}, 0) - coalesce(bought.{m}, 0) as double) as {m}_diff"
        for m in BUYER_MEASURES
    )
    return f"""
        with bought as (
            select
                {buyer} as buyer,
                {", ".join(f"{expr} as {m}" for m, expr in BUYER_MEASURES.items())}
            from main.projects
            where sold
            group by all
        ),
        sales as (
            select {buyer} as buyer, count(*) as projects_bought
            from main.int_result_matches
            group by all
        ),
        league as (
            select *, count(*) over (partition by buyer) as rows_per_key
            from main.buyer_league
        ),
        keys as (
            select buyer from league
            union select buyer from bought
            union select buyer from sales
        )
        select
            keys.buyer,
            {diffs},
            league.projects_bought,
            sales.projects_bought as inputs_projects_bought,
            cast(coalesce(league.projects_bought, 0) - coalesce(sales.projects_bought, 0)
                as double) as projects_bought_diff,
            league.projects_without_listing,
            cast(league.projects_bought - league.projects_with_listing
                - league.projects_without_listing as double) as projects_split_diff,
            coalesce(league.rows_per_key, 0) as rows_per_key
        from keys
        left join league on league.buyer = keys.buyer
        left join bought on bought.buyer = keys.buyer
        left join sales on sales.buyer = keys.buyer
        order by keys.buyer
    """


def _reconciles(column: str, measure: str, reason: str, name: str) -> Rule:
    return between(
        column,
        HARD,
        reason,
        name=name,
        min_value=-SUM_TOLERANCE,
        max_value=SUM_TOLERANCE,
        report_as=measure,
        report_columns=(measure, f"inputs_{measure}"),
    )


BUYER_LEAGUE_SUITE = Suite(
    name="buyer_league",
    key_columns=("buyer",),
    rules=(
        between(
            "rows_per_key",
            HARD,
            "more than one row per buyer",
            name="one_row_per_buyer",
            max_value=1,
        ),
        _reconciles(
            "projects_bought_diff",
            "projects_bought",
            "projects bought differ from the buyer's sales in int_result_matches",
            "projects_bought_reconciles_with_sales",
        ),
        *(
            _reconciles(
                f"{m}_diff",
                m,
                f"{m} differs from the sum over the projects sold to the buyer",
                f"{m}_reconciles_with_projects",
            )
            for m in BUYER_MEASURES
        ),
        between(
            "projects_split_diff",
            HARD,
            "projects_bought is not projects_with_listing + projects_without_listing",
            name="projects_bought_split_adds_up",
            min_value=-SUM_TOLERANCE,
            max_value=SUM_TOLERANCE,
            report_as="projects_bought",
            report_columns=(
                "projects_bought",
                "projects_with_listing",
                "projects_without_listing",
            ),
        ),
    ),
)


def _frame(con, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def validate_projects(con) -> ValidationReport:
    return run_suite(PROJECTS_SUITE, _frame(con, projects_reconciliation_sql()))


def validate_seller_metrics(con) -> ValidationReport:
    sql = metrics_reconciliation_sql("seller_quarterly_metrics", SELLER_KEYS)
    return run_suite(SELLER_METRICS_SUITE, _frame(con, sql))


def validate_market_metrics(con) -> ValidationReport:
    sql = metrics_reconciliation_sql("market_quarterly_metrics", MARKET_KEYS)
    return run_suite(MARKET_METRICS_SUITE, _frame(con, sql))


def validate_buyer_league(con) -> ValidationReport:
    return run_suite(BUYER_LEAGUE_SUITE, _frame(con, buyer_league_reconciliation_sql()))

"""The mart reconciliation suites on hand-made tables: consistent marts pass, and each kind of
break (a sum off, a missing group, an out-of-range average or ratio, a lost announcement) fails
the right expectation for the right group."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from npl_assets.quality.marts import (
    validate_buyer_league,
    validate_market_metrics,
    validate_projects,
    validate_seller_metrics,
)

STG_LISTINGS = """
create table main.stg_listings as select * from (values
    ('p1', 'l1a', 'A', 100.00, 50.00, 150.00, 12.00, 9, 10, 990.00),
    ('p1', 'l1b', 'A', 100.00, 50.00, 150.00, 10.00, 9, 10, 1000.00),
    ('p2', 'l2', 'A', 200.00, 100.00, 300.00, 30.00, 20, 25, 400.00),
    ('p3', 'l3', 'A', 60.00, 40.00, 100.00, null, 5, 5, null),
    ('p4', 'l4', 'B', 700.00, 300.00, 1000.00, 50.00, 70, 80, 2000.00)
) as t(project_id, sha256, seller, unpaid_principal_yuan, unpaid_interest_yuan,
       unpaid_total_yuan, starting_price_yuan, borrowers, loans, weighted_avg_overdue_days)
"""

# Built from stg_listings as the dbt model does: one row per project, latest figures.
PROJECTS = """
create table main.projects as
select
    s.project_id,
    'project ' || s.project_id as project_name,
    s.sha256 as latest_sha256,
    n.announcements,
    s.seller,
    case when s.project_id = 'p3' then '2023Q2' else '2023Q1' end as first_listing_quarter,
    case when s.seller = 'A' then '股份行' else '城商行' end as seller_type,
    case s.project_id when 'p3' then '个人消费贷款' when 'p4' then null else '信用卡透支' end
        as asset_type,
    cast(s.unpaid_principal_yuan as decimal(18, 2)) as unpaid_principal_yuan,
    cast(s.unpaid_interest_yuan as decimal(18, 2)) as unpaid_interest_yuan,
    cast(s.unpaid_total_yuan as decimal(18, 2)) as unpaid_total_yuan,
    cast(s.starting_price_yuan as decimal(18, 2)) as starting_price_yuan,
    s.borrowers,
    s.loans,
    cast(s.weighted_avg_overdue_days as decimal(12, 2)) as weighted_avg_overdue_days,
    s.project_id in ('p1', 'p4') as sold,
    case s.project_id when 'p1' then 'X' end as buyer
from main.stg_listings as s
join (
    select project_id, count(*) as announcements, max(sha256) as latest
    from main.stg_listings group by project_id
) as n on n.latest = s.sha256
"""


# Three sales: p1 to X, p4 to an undisclosed buyer, and one to X whose listing is not in the data.
SALES = """
create table main.int_result_matches as select * from (values
    ('r1', 'p1', 'X'), ('r4', 'p4', null), ('r9', null, 'X')
) as t(result_id, project_id, buyer)
"""

BUYER_LEAGUE = """
create table main.buyer_league as
select
    coalesce(s.buyer, '未披露') as buyer,
    count(*) as projects_bought,
    count(p.project_id) as projects_with_listing,
    count(*) - count(p.project_id) as projects_without_listing,
    sum(p.unpaid_total_yuan) as unpaid_total_yuan,
    sum(p.unpaid_principal_yuan) as unpaid_principal_yuan,
    sum(p.borrowers) as borrowers,
    sum(p.loans) as loans,
    sum(p.starting_price_yuan) as starting_price_yuan
from main.int_result_matches as s
left join main.projects as p using (project_id)
group by all
"""


def metrics_sql(table: str, keys: str, key_exprs: str) -> str:
    """The marts' measures, written here independently of the dbt macro."""
    return f"""
    create table main.{table} as
    select
        {key_exprs},
        count(*) as listings,
        sum(announcements) as announcements,
        sum(unpaid_principal_yuan) as unpaid_principal_yuan,
        sum(unpaid_interest_yuan) as unpaid_interest_yuan,
        sum(unpaid_total_yuan) as unpaid_total_yuan,
        sum(borrowers) as borrowers,
        sum(loans) as loans,
        sum(starting_price_yuan) as starting_price_yuan,
        cast(round(
            sum(weighted_avg_overdue_days * unpaid_total_yuan)
                filter (where weighted_avg_overdue_days is not null)
            / sum(unpaid_total_yuan) filter (where weighted_avg_overdue_days is not null), 2)
            as decimal(12, 2)) as weighted_avg_overdue_days,
        cast(sum(starting_price_yuan) as double)
            / cast(sum(unpaid_total_yuan) filter (where starting_price_yuan is not null) as double)
            as starting_price_ratio,
        count(*) filter (where sold) as sold_listings
    from main.projects
    group by {keys}
    """


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute(STG_LISTINGS)
    connection.execute(PROJECTS)
    connection.execute(
        metrics_sql(
            "seller_quarterly_metrics",
            "all",
            "seller, first_listing_quarter as quarter",
        )
    )
    connection.execute(
        metrics_sql(
            "market_quarterly_metrics",
            "all",
            "first_listing_quarter as quarter, seller_type, "
            "coalesce(asset_type, '未分类') as asset_type",
        )
    )
    connection.execute(SALES)
    connection.execute(BUYER_LEAGUE)
    yield connection
    connection.close()


def failing(report) -> set[tuple]:
    return {(*f.key.values(), f.expectation) for f in report.hard_failures}


def test_consistent_marts_pass(con: duckdb.DuckDBPyConnection) -> None:
    for validate, rows in (
        (validate_projects, 4),
        (validate_seller_metrics, 3),
        (validate_market_metrics, 3),
        (validate_buyer_league, 2),
    ):
        report = validate(con)
        assert report.rows == rows
        assert report.failures == (), report.failures


def test_weighted_overdue_of_the_fixture_lies_between_its_inputs(
    con: duckdb.DuckDBPyConnection,
) -> None:
    # p1 (1000 days, 150 元) and p2 (400 days, 300 元): (150000 + 120000) / 450 = 600
    assert con.execute(
        "select weighted_avg_overdue_days from main.seller_quarterly_metrics"
        " where seller = 'A' and quarter = '2023Q1'"
    ).fetchone() == (600,)


def test_a_sum_that_does_not_reconcile(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update main.seller_quarterly_metrics set unpaid_total_yuan = unpaid_total_yuan + 1"
        " where seller = 'A' and quarter = '2023Q1'"
    )
    report = validate_seller_metrics(con)
    assert failing(report) == {("A", "2023Q1", "unpaid_total_yuan_reconciles_with_projects")}
    assert report.hard_failures[0].value == {
        "unpaid_total_yuan": "451.00",
        "inputs_unpaid_total_yuan": "450.00",
    }


def test_a_group_missing_from_the_mart(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("delete from main.market_quarterly_metrics where asset_type = '未分类'")
    report = validate_market_metrics(con)
    keys = {f.key["asset_type"] for f in report.hard_failures}
    assert keys == {"未分类"}
    assert ("2023Q1", "城商行", "未分类", "listings_reconciles_with_projects") in failing(report)


def test_a_duplicated_group(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "insert into main.seller_quarterly_metrics"
        " select * from main.seller_quarterly_metrics where seller = 'B'"
    )
    report = validate_seller_metrics(con)
    assert ("B", "2023Q1", "one_row_per_group") in failing(report)
    assert {f.key["seller"] for f in report.hard_failures} == {"B"}


def test_weighted_overdue_outside_its_inputs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update main.seller_quarterly_metrics set weighted_avg_overdue_days = 1000.01"
        " where seller = 'A' and quarter = '2023Q1'"
    )
    con.execute(
        "update main.seller_quarterly_metrics set weighted_avg_overdue_days = 1999.99"
        " where seller = 'B'"
    )
    con.execute(
        "update main.seller_quarterly_metrics set weighted_avg_overdue_days = 5"
        " where quarter = '2023Q2'"
    )
    assert failing(validate_seller_metrics(con)) == {
        ("A", "2023Q1", "weighted_overdue_days_at_most_max"),
        ("B", "2023Q1", "weighted_overdue_days_at_least_min"),
        ("A", "2023Q2", "weighted_overdue_days_present_iff_inputs"),
    }


def test_starting_price_ratio_outside_zero_one(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "update main.market_quarterly_metrics set starting_price_ratio = 1.5"
        " where seller_type = '城商行'"
    )
    con.execute(
        "update main.market_quarterly_metrics set starting_price_ratio = 0"
        " where asset_type = '信用卡透支'"
    )
    assert failing(validate_market_metrics(con)) == {
        ("2023Q1", "城商行", "未分类", "starting_price_ratio_in_range"),
        ("2023Q1", "股份行", "信用卡透支", "starting_price_ratio_in_range"),
    }


def test_projects_reconcile_with_stg_listings(con: duckdb.DuckDBPyConnection) -> None:
    # an announcement that no project merged, and a project whose figures are not its latest
    con.execute(
        "insert into main.stg_listings values"
        " ('p5', 'l5', 'B', 1.00, 1.00, 2.00, null, 1, 1, 100.00)"
    )
    con.execute("update main.projects set loans = 11 where project_id = 'p1'")
    assert failing(validate_projects(con)) == {
        ("p5", None, "announcements_reconcile_with_stg_listings"),
        ("p1", "project p1", "loans_equals_latest_announcement"),
    }


def test_buyer_league_reconciles_with_sold_projects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("update main.buyer_league set unpaid_total_yuan = 0 where buyer = '未披露'")
    con.execute("update main.buyer_league set projects_bought = 3 where buyer = 'X'")
    assert failing(validate_buyer_league(con)) == {
        ("未披露", "unpaid_total_yuan_reconciles_with_projects"),
        ("X", "projects_bought_reconciles_with_sales"),
        ("X", "projects_bought_split_adds_up"),
    }

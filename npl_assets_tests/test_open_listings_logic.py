"""open_listings' rules on hand-made rows: the model's own SQL (as `npl open --as-of` renders
it) over minimal stg_listings and projects tables. Each expected status is worked out by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from npl_assets.openings.query import Filters, open_listings, render_model_sql

AS_OF = datetime(2023, 6, 15)

# project, sha, listing_date, deadline, bid_date, auction_end, price
LISTINGS = [
    ("A", "a1", date(2023, 6, 5), datetime(2023, 6, 20, 15), date(2023, 6, 27), None, "10.00"),
    # registration closed yesterday, the auction is tomorrow
    ("B", "b1", date(2023, 6, 1), datetime(2023, 6, 14, 15), date(2023, 6, 16),
     datetime(2023, 6, 16, 10, 30), "10.00"),
    # auction over a week ago, no result: awaiting the result
    ("C", "c1", date(2023, 5, 20), datetime(2023, 6, 1, 15), date(2023, 6, 8),
     datetime(2023, 6, 8, 10, 30), "10.00"),
    # the same, but sold (agreement signed 2023-06-10): decided, left out
    ("D", "d1", date(2023, 5, 20), datetime(2023, 6, 1, 15), date(2023, 6, 8), None, "10.00"),
    # sold too, but the agreement is signed after as_of: still undecided on 2023-06-15
    ("E", "e1", date(2023, 5, 20), datetime(2023, 6, 1, 15), date(2023, 6, 8), None, "10.00"),
    # auctioned in March, never a result: too old to be "awaiting" (60 days)
    ("F", "f1", date(2023, 2, 10), datetime(2023, 2, 20, 15), date(2023, 3, 1), None, "10.00"),
    # listed in May, relisted on 2023-06-20 (after as_of) with a new deadline
    ("G", "g1", date(2023, 5, 1), datetime(2023, 5, 10, 15), date(2023, 5, 17), None, "10.00"),
    ("G", "g2", date(2023, 6, 20), datetime(2023, 6, 30, 15), date(2023, 7, 7), None, "8.00"),
    # the deadline is this afternoon; no starting price disclosed
    ("H", "h1", date(2023, 6, 1), datetime(2023, 6, 15, 15), date(2023, 6, 20), None, None),
]  # fmt: skip
SOLD = {"D": date(2023, 6, 10), "E": date(2023, 6, 20)}


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        """create table stg_listings (
            project_id varchar, sha256 varchar, listing_date date,
            registration_deadline timestamp, bid_date date, auction_start timestamp,
            auction_end timestamp, starting_price_yuan decimal(18,2), project_name varchar,
            title varchar, seller varchar, asset_type varchar,
            unpaid_principal_yuan decimal(18,2), unpaid_interest_yuan decimal(18,2),
            unpaid_total_yuan decimal(18,2), borrowers integer, loans integer,
            weighted_avg_overdue_days decimal(12,2), bid_increment_yuan decimal(18,2),
            publication_date date, is_relisting boolean, announcement_url varchar,
            announcement_pdf_url varchar)"""
    )
    for project, sha, listed, deadline, bid, end, price in LISTINGS:
        con.execute(
            """insert into stg_listings values (?, ?, ?, ?, ?, null, ?, ?, ?, ?, 'S',
               '个人消费贷款', 60, 40, 100, 5, 6, 900, 1, ?, ?, ?, null)""",
            [project, sha, listed, deadline, bid, end, price, f"P{project}", f"T{sha}",
             listed, sha.endswith("2"), f"http://x/{sha}.html"],
        )  # fmt: skip
    con.execute(
        """create table projects (project_id varchar, sold boolean, agreement_signed_date date,
            parent_institution varchar, seller_type varchar, first_listing_date date,
            announcements integer, relisted boolean)"""
    )
    for project in sorted({row[0] for row in LISTINGS}):
        con.execute(
            "insert into projects values (?, ?, ?, 'S', '股份行', null, 1, ?)",
            [project, project in SOLD, SOLD.get(project), project == "G"],
        )
    return con


def statuses(con: duckdb.DuckDBPyConnection, known_then: bool) -> dict[str, tuple]:
    rows = con.execute(
        f"select project_id, status, listing_sha256, days_left, starting_price_ratio, as_of"
        f" from ({render_model_sql(AS_OF, known_then=known_then)})"
    ).fetchall()
    assert {r[5] for r in rows} == {AS_OF}
    return {r[0]: r[1:5] for r in rows}


def test_statuses_with_every_listing_in_the_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    assert statuses(con, known_then=False) == {
        "A": ("open", "a1", 5, 0.1),
        "B": ("auction_pending", "b1", -1, 0.1),
        "C": ("awaiting_result", "c1", -14, 0.1),
        "E": ("awaiting_result", "e1", -14, 0.1),
        # the relisting is the latest listing: open until 2023-06-30
        "G": ("open", "g2", 15, 0.08),
        "H": ("open", "h1", 0, None),
    }


def test_as_a_buyer_saw_it_that_day(con: duckdb.DuckDBPyConnection) -> None:
    got = statuses(con, known_then=True)
    # G's relisting was not published yet: its first listing, auctioned 2023-05-17, is
    # awaiting its result
    assert got["G"] == ("awaiting_result", "g1", -36, 0.1)
    assert set(got) == {"A", "B", "C", "E", "G", "H"}


def test_filters_and_order(con: duckdb.DuckDBPyConnection) -> None:
    frame = open_listings(con, Filters(statuses=("open",)), AS_OF, known_then=False)
    # soonest deadline first
    assert list(frame["project_id"]) == ["H", "A", "G"]
    assert open_listings(con, Filters(min_total_yuan=Decimal("101")), AS_OF).empty
    assert open_listings(con, Filters(max_overdue_days=Decimal("899")), AS_OF).empty
    assert open_listings(con, Filters(seller_types=("城商行",)), AS_OF).empty
    assert len(open_listings(con, Filters(asset_types=("个人消费贷款",)), AS_OF)) == 6


def test_filters_compare_exponent_form_numbers_exactly() -> None:
    """`--min-total 1e8` parses to Decimal('1E+8'), which DuckDB 1.5 binds wrongly as is."""
    from decimal import Decimal

    import duckdb

    from npl_assets.openings.query import Filters

    con = duckdb.connect()
    con.execute(
        "create table o (unpaid_total_yuan decimal(18, 2),"
        " weighted_avg_overdue_days decimal(12, 2))"
    )
    con.execute("insert into o values (5.00, 100), (200000000.00, 2000), (100000000.00, 1200)")
    where, params = Filters(
        min_total_yuan=Decimal("1e8"), max_overdue_days=Decimal("1.2e3"), statuses=()
    ).where_sql()
    assert con.execute(f"select unpaid_total_yuan from o where {where}", params).fetchall() == [
        (Decimal("100000000.00"),)
    ]

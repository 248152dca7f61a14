"""Read a QuarterReport from the marts. Every figure is a sum of mart rows, or a ratio of such
sums; nothing is recomputed from the staging tables, so the report cannot disagree with the
marts that `npl sql` users query."""

from __future__ import annotations

from decimal import Decimal

import duckdb

from npl_assets import completeness
from npl_assets.domain import SELLER_TYPES
from npl_assets.report.model import (
    OVERDUE_BUCKETS,
    OVERDUE_UNKNOWN,
    UNKNOWN_LABEL,
    Bucket,
    BuyerRow,
    Coverage,
    DocumentCoverage,
    Figure,
    Group,
    LeagueRow,
    OpenNow,
    OpenProject,
    QuarterReport,
    ReportDataError,
    SellerRow,
    overdue_bucket,
    parse_quarter,
    shift_quarter,
)
from npl_assets.report.render import IndexEntry

MARTS = ("seller_quarterly_metrics", "market_quarterly_metrics", "buyer_league", "projects")
TOP_N = 10


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Qualified names of the tables and views visible on `con` ('main.projects', 'raw.x')."""
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables"
        " where table_catalog = current_database()"
    ).fetchall()
    return {f"{schema}.{name}" for schema, name in rows}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name from information_schema.columns"
        " where table_catalog = current_database() and table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return {r[0] for r in rows}


def check_marts(con: duckdb.DuckDBPyConnection) -> None:
    tables = _tables(con)
    missing = [m for m in MARTS if f"main.{m}" not in tables]
    if missing:
        raise ReportDataError(
            f"the database lacks the mart(s) {', '.join(missing)}: build the marts first "
            "(`make run`, or materialise the dbt models)"
        )


def quarters(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every quarter with at least one project, oldest first."""
    rows = con.execute(
        "select distinct quarter from main.market_quarterly_metrics"
        " where quarter is not null order by quarter"
    ).fetchall()
    found = [r[0] for r in rows]
    for q in found:
        parse_quarter(q)
    return found


def _dec(value: object) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _starting_price_base_sql(columns: set[str]) -> str:
    """The denominator of the starting-price ratio: the unpaid total of the listings that
    disclose a starting price. Taken from the mart where it publishes it; otherwise recovered
    from the mart's own numerator and ratio (exact when every listing discloses one)."""
    if "starting_price_base_yuan" in columns:
        return "starting_price_base_yuan"
    return """case
        when starting_price_yuan is null or starting_price_ratio is null then null
        when listings_without_starting_price = 0 then unpaid_total_yuan
        else cast(round(starting_price_yuan / nullif(starting_price_ratio, 0), 2)
                  as decimal(18, 2))
    end"""


def _type_order(name: str) -> tuple[int, str]:
    return (SELLER_TYPES.index(name) if name in SELLER_TYPES else len(SELLER_TYPES), name)


def groups(con: duckdb.DuckDBPyConnection, quarter: str, by: str) -> list[Group]:
    """The quarter's market_quarterly_metrics rows summed by `seller_type` or `asset_type`."""
    if by not in ("seller_type", "asset_type"):
        raise ValueError(f"cannot group by {by!r}")
    base = _starting_price_base_sql(_columns(con, "main.market_quarterly_metrics"))
    rows = con.execute(
        f"""
        with rows as (
            select *, {base} as starting_price_base_yuan_
            from main.market_quarterly_metrics where quarter = ?
        )
        select coalesce({by}, ?) as name,
               sum(listings), sum(unpaid_total_yuan), sum(borrowers), sum(sold_listings),
               sum(starting_price_yuan), sum(starting_price_base_yuan_),
               sum(listings_without_starting_price)
        from rows group by 1
        """,
        [quarter, UNKNOWN_LABEL],
    ).fetchall()
    result = [
        Group(
            name=r[0],
            listings=int(r[1] or 0),
            unpaid_total_yuan=_dec(r[2]) or Decimal(0),
            borrowers=int(r[3] or 0),
            sold_listings=int(r[4] or 0),
            starting_price_yuan=_dec(r[5]),
            starting_price_base_yuan=_dec(r[6]),
            listings_without_starting_price=None if r[7] is None else int(r[7]),
        )
        for r in rows
    ]
    if by == "seller_type":
        return sorted(result, key=lambda g: _type_order(g.name))
    return sorted(result, key=lambda g: (-g.unpaid_total_yuan, g.name))


def _totals(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, Decimal, int, int]]:
    """quarter -> (listings, unpaid total, borrowers, sold) from market_quarterly_metrics."""
    rows = con.execute(
        """select quarter, sum(listings), sum(unpaid_total_yuan), sum(borrowers),
                  sum(sold_listings)
           from main.market_quarterly_metrics where quarter is not null group by quarter"""
    ).fetchall()
    return {r[0]: (int(r[1]), _dec(r[2]) or Decimal(0), int(r[3] or 0), int(r[4])) for r in rows}


def headline(totals: dict[str, tuple[int, Decimal, int, int]], quarter: str) -> list[Figure]:
    previous = totals.get(shift_quarter(quarter, -1))
    year_ago = totals.get(shift_quarter(quarter, -4))
    labels = (
        ("listings (projects)", "count"),
        ("unpaid total listed (未偿本息)", "money"),
        ("borrowers", "count"),
        ("sold projects", "count"),
    )
    now = totals[quarter]
    return [
        Figure(
            label=label,
            kind=kind,
            value=now[i],
            previous_quarter=None if previous is None else previous[i],
            year_ago=None if year_ago is None else year_ago[i],
        )
        for i, (label, kind) in enumerate(labels)
    ]


def top_sellers(
    con: duckdb.DuckDBPyConnection, quarter: str, limit: int = TOP_N
) -> list[SellerRow]:
    rows = con.execute(
        """select seller, seller_type, listings, unpaid_total_yuan, borrowers,
                  weighted_avg_overdue_days, starting_price_ratio, sold_listings
           from main.seller_quarterly_metrics where quarter = ?
           order by unpaid_total_yuan desc nulls last, seller limit ?""",
        [quarter, limit],
    ).fetchall()
    return [
        SellerRow(
            seller=r[0],
            seller_type=r[1],
            listings=int(r[2]),
            unpaid_total_yuan=_dec(r[3]) or Decimal(0),
            borrowers=int(r[4] or 0),
            weighted_avg_overdue_days=_dec(r[5]),
            starting_price_ratio=_dec(r[6]),
            sold_listings=int(r[7]),
        )
        for r in rows
    ]


def top_buyers(
    con: duckdb.DuckDBPyConnection, quarter: str, limit: int = TOP_N
) -> tuple[list[BuyerRow], str]:
    """Buyers of the quarter's projects (first-listing quarter, as every other table), from
    the projects mart."""
    rows = con.execute(
        """select buyer, count(*), sum(unpaid_total_yuan)
           from main.projects
           where first_listing_quarter = ? and sold and buyer is not null
           group by buyer
           order by sum(unpaid_total_yuan) desc nulls last, count(*) desc, buyer
           limit ?""",
        [quarter, limit],
    ).fetchall()
    buyers = [BuyerRow(r[0], int(r[1]), _dec(r[2]) or Decimal(0)) for r in rows]
    return buyers, f"projects first listed in {quarter} and sold so far"


def buyer_league(con: duckdb.DuckDBPyConnection, limit: int = TOP_N) -> list[LeagueRow]:
    """The buyer_league mart's leaders, in its own order (projects bought first)."""
    rows = con.execute(
        """select buyer, projects_bought, projects_without_listing, unpaid_total_yuan
           from main.buyer_league
           order by projects_bought desc, unpaid_total_yuan desc nulls last, buyer
           limit ?""",
        [limit],
    ).fetchall()
    return [LeagueRow(r[0], int(r[1]), int(r[2] or 0), _dec(r[3])) for r in rows]


def overdue(con: duckdb.DuckDBPyConnection, quarter: str) -> list[Bucket]:
    """The quarter's projects by weighted overdue days bucket, from the projects mart; the
    projects that disclose none are a bucket of their own, not dropped."""
    rows = con.execute(
        """select weighted_avg_overdue_days, unpaid_total_yuan
           from main.projects where first_listing_quarter = ?""",
        [quarter],
    ).fetchall()
    counts: dict[str, int] = {}
    amounts: dict[str, Decimal] = {}
    for days, amount in rows:
        label = overdue_bucket(_dec(days))
        counts[label] = counts.get(label, 0) + 1
        amounts[label] = amounts.get(label, Decimal(0)) + (_dec(amount) or Decimal(0))
    labels = [b[0] for b in OVERDUE_BUCKETS]
    if OVERDUE_UNKNOWN in counts:
        labels.append(OVERDUE_UNKNOWN)
    return [Bucket(label, counts.get(label, 0), amounts.get(label, Decimal(0))) for label in labels]


def _count_by(con: duckdb.DuckDBPyConnection, table: str, column: str) -> dict[str, int]:
    rows = con.execute(f"select {column}, count(*) from {table} group by 1").fetchall()
    return {str(k): int(v) for k, v in rows}


def quarter_listings(con: duckdb.DuckDBPyConnection, quarter: str) -> DocumentCoverage | None:
    """Where the listing documents indexed in `quarter` ended up (None without raw tables)."""
    if not {"raw.documents", "raw.listings", "raw.parse_failures"} <= _tables(con):
        return None
    found = completeness.coverage_by_quarter(con, "listing").get(quarter)
    if found is None:
        return DocumentCoverage(0, 0, 0, 0)
    return DocumentCoverage(found.stored, found.parsed, found.quarantined, found.failed)


def coverage(con: duckdb.DuckDBPyConnection, quarter: str | None = None) -> Coverage:
    tables = _tables(con)
    first, last, projects, undated = con.execute(
        """select cast(min(first_listing_date) as varchar),
                  cast(max(first_listing_date) as varchar), count(*),
                  count(*) filter (where first_listing_quarter is null)
           from main.projects"""
    ).fetchall()[0]
    listings = relistings = results = None
    if "main.stg_listings" in tables:
        listings, relistings = con.execute(
            "select count(*), count(*) filter (where is_relisting) from main.stg_listings"
        ).fetchall()[0]
    if "main.stg_results" in tables:
        results = con.execute("select count(*) from main.stg_results").fetchall()[0][0]
    quarantined = None
    if "raw.listing_quarantine" in tables:
        quarantined = con.execute("select count(*) from raw.listing_quarantine").fetchall()[0][0]
    return Coverage(
        first_listing_from=first,
        first_listing_to=last,
        projects=int(projects),
        projects_without_quarter=int(undated),
        listing_announcements=listings,
        relisting_announcements=relistings,
        result_announcements=results,
        documents=_count_by(con, "raw.documents", "doc_type")
        if "raw.documents" in tables
        else None,
        parse_failures=_count_by(con, "raw.parse_failures", "doc_type")
        if "raw.parse_failures" in tables
        else None,
        quarantined_listings=quarantined,
        quarter_listings=quarter_listings(con, quarter) if quarter else None,
    )


OPEN_NOW_ROWS = 5


def open_now(con: duckdb.DuckDBPyConnection, quarter: str) -> OpenNow | None:
    """The open-now box, when `quarter` is the quarter of open_listings' build time (the
    current quarter when the marts were built for now); None otherwise or without the mart."""
    if "main.open_listings" not in _tables(con):
        return None
    (as_of,) = con.execute("select max(as_of) from main.open_listings").fetchone()
    if as_of is None:
        # nothing open or undecided: the build time is not in the table, "now" is
        from npl_assets.openings.clock import beijing_now

        as_of = beijing_now()
    if f"{as_of.year}Q{(as_of.month - 1) // 3 + 1}" != quarter:
        return None
    opened, total, undecided = con.execute(
        """select count(*) filter (where status = 'open'),
                  coalesce(sum(unpaid_total_yuan) filter (where status = 'open'), 0),
                  count(*) filter (where status <> 'open')
           from main.open_listings"""
    ).fetchone()
    soonest = [
        OpenProject(*row)
        for row in con.execute(
            f"""select project_name, seller, registration_deadline, days_left, unpaid_total_yuan
                from main.open_listings where status = 'open'
                order by registration_deadline, project_name limit {OPEN_NOW_ROWS}"""
        ).fetchall()
    ]
    return OpenNow(as_of, int(opened), _dec(total) or Decimal(0), int(undecided), soonest)


def load_report(con: duckdb.DuckDBPyConnection, quarter: str) -> QuarterReport:
    """The report of one quarter; an unknown quarter is an error naming the known ones."""
    parse_quarter(quarter)
    check_marts(con)
    totals = _totals(con)
    if quarter not in totals:
        known = ", ".join(sorted(totals)) or "none"
        raise ReportDataError(
            f"no projects first listed in {quarter}; quarters in the data: {known}"
        )
    buyers, scope = top_buyers(con, quarter)
    return QuarterReport(
        quarter=quarter,
        headline=headline(totals, quarter),
        by_seller_type=groups(con, quarter, "seller_type"),
        by_asset_type=groups(con, quarter, "asset_type"),
        top_sellers=top_sellers(con, quarter),
        top_buyers=buyers,
        buyers_scope=scope,
        buyer_league=buyer_league(con),
        overdue=overdue(con, quarter),
        coverage=coverage(con, quarter),
        trend=[(q, totals[q][1]) for q in sorted(totals)],
        open_now=open_now(con, quarter),
    )


def index_entries(con: duckdb.DuckDBPyConnection) -> list[IndexEntry]:
    check_marts(con)
    return [
        IndexEntry(q, listings, amount, sold)
        for q, (listings, amount, _borrowers, sold) in sorted(_totals(con).items())
    ]

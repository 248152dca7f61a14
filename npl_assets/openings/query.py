"""Open listings read from the serving file: the published `open_listings` snapshot, or, for
another day, the model's own SQL rendered against the published `stg_listings` and `projects`
(so `npl open --as-of` and the dbt model cannot drift apart)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import jinja2
import pandas as pd

from npl_assets.dbt_project import DBT_PROJECT_DIR
from npl_assets.openings.clock import as_of_var

MODEL_SQL = DBT_PROJECT_DIR / "models" / "marts" / "open_listings.sql"
STATUSES = ("open", "auction_pending", "awaiting_result")
# What `npl open` shows by default, in this order; --json/--csv carry every column.
DISPLAY_COLUMNS = (
    "status",
    "days_left",
    "registration_deadline",
    "bid_date",
    "seller",
    "seller_type",
    "asset_type",
    "unpaid_total_yuan",
    "borrowers",
    "weighted_avg_overdue_days",
    "starting_price_ratio",
    "project_name",
)


@dataclass(frozen=True)
class Filters:
    """A buyer's mandate; shared by `npl open` and the alert rules. None means any."""

    seller_types: tuple[str, ...] = ()
    asset_types: tuple[str, ...] = ()
    min_total_yuan: Decimal | None = None
    max_overdue_days: Decimal | None = None
    statuses: tuple[str, ...] = STATUSES

    def matches(self, row: dict) -> bool:
        """The same test as `where_sql`, on one row (the alert sensor's new listings)."""
        if self.seller_types and row.get("seller_type") not in self.seller_types:
            return False
        if self.asset_types and row.get("asset_type") not in self.asset_types:
            return False
        total = row.get("unpaid_total_yuan")
        if self.min_total_yuan is not None and (
            total is None or Decimal(str(total)) < self.min_total_yuan
        ):
            return False
        overdue = row.get("weighted_avg_overdue_days")
        return not (
            self.max_overdue_days is not None
            and (overdue is None or Decimal(str(overdue)) > self.max_overdue_days)
        )

    def where_sql(self) -> tuple[str, list]:
        """A parameterised WHERE clause over open_listings' columns."""
        clauses: list[str] = []
        params: list = []
        if self.statuses:
            clauses.append(f"status in ({', '.join('?' * len(self.statuses))})")
            params += list(self.statuses)
        if self.seller_types:
            clauses.append(f"seller_type in ({', '.join('?' * len(self.seller_types))})")
            params += list(self.seller_types)
        if self.asset_types:
            clauses.append(f"asset_type in ({', '.join('?' * len(self.asset_types))})")
            params += list(self.asset_types)
        # Numbers go in as plain decimal text, cast in SQL: DuckDB 1.5 binds a Decimal with a
        # positive exponent (Decimal("1e8")) wrongly, and the comparison then passes every row.
        if self.min_total_yuan is not None:
            clauses.append("unpaid_total_yuan >= cast(? as decimal(38, 2))")
            params.append(format(self.min_total_yuan, "f"))
        if self.max_overdue_days is not None:
            # unknown overdue days cannot be shown to be within the limit
            clauses.append("weighted_avg_overdue_days <= cast(? as decimal(38, 2))")
            params.append(format(self.max_overdue_days, "f"))
        return (" and ".join(clauses) or "true"), params


def render_model_sql(
    as_of: datetime, known_then: bool = True, awaiting_result_days: int | None = None
) -> str:
    """open_listings.sql with ref() as the bare published table names and var() as given."""
    values: dict[str, object] = {"as_of": as_of_var(as_of), "known_then": known_then}
    if awaiting_result_days is not None:
        values["awaiting_result_days"] = int(awaiting_result_days)

    def var(name: str, default: object = None) -> object:
        return values.get(name, default)

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    template = env.from_string(MODEL_SQL.read_text(encoding="utf-8"))
    return template.render(ref=lambda name: name, var=var)


ORDER_BY = (
    "order by case status when 'open' then 0 when 'auction_pending' then 1 else 2 end,"
    " registration_deadline nulls last, bid_date nulls last, project_name"
)


def open_listings(
    con: duckdb.DuckDBPyConnection,
    filters: Filters,
    as_of: datetime | None = None,
    known_then: bool = True,
) -> pd.DataFrame:
    """Rows soonest deadline first: the published snapshot, or, with `as_of`, computed for
    that moment from the published listings and projects (with `known_then`, only listings
    published by then: what a buyer saw that day)."""
    source = "open_listings" if as_of is None else f"({render_model_sql(as_of, known_then)})"
    where, params = filters.where_sql()
    cursor = con.execute(f"select * from {source} as o where {where} {ORDER_BY}", params)
    columns = [d[0] for d in cursor.description or []]
    # Python values, so DECIMAL money stays exact
    return pd.DataFrame(cursor.fetchall(), columns=columns, dtype=object)


def query_serving(
    filters: Filters,
    as_of: datetime | None = None,
    path: Path | None = None,
    known_then: bool = True,
) -> pd.DataFrame:
    from npl_assets.sql import connect_serving

    con = connect_serving(path)
    try:
        return open_listings(con, filters, as_of, known_then)
    finally:
        con.close()

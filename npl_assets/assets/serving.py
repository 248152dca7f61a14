"""Publish the marts to a separate serving file, replaced atomically, so readers never see a
half-written state and never fight the pipeline for DuckDB's single-writer lock.

On a DuckLake (team profile) no copy is needed: every commit is a snapshot that readers attach
read-only without blocking the writer. Publishing there records the snapshot that holds the
checked marts (`serving.published`), and readers attach at that snapshot (profiles.open_published),
so they see all marts of one successful run together, never a run half way through dbt."""

import os
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from npl_assets.assets.conditions import downstream_condition
from npl_assets.assets.row_changes import changes_markdown, previous_row_counts
from npl_assets.assets.transform import npl_dbt_models
from npl_assets.locations import DataPaths
from npl_assets.warehouse import is_lake

# What readers get: the dbt models, under their bare names.
PUBLISHED_TABLES = (
    "seller_quarterly_metrics",
    "market_quarterly_metrics",
    "buyer_league",
    "projects",
    "open_listings",
    "stg_listings",
    "stg_results",
    "sellers",
)


def publish(con, serving: Path, tables: tuple[str, ...] = PUBLISHED_TABLES) -> dict[str, int]:
    """Copy `tables` from the open warehouse connection into a fresh file, then swap it in."""
    serving.parent.mkdir(parents=True, exist_ok=True)
    tmp = serving.with_name(serving.name + ".tmp")
    # A crash can leave a half-written file and its WAL, which DuckDB would replay.
    tmp.unlink(missing_ok=True)
    tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    check_publishable(con, tables)
    counts: dict[str, int] = {}
    quoted = str(tmp).replace("'", "''")
    con.execute(f"attach '{quoted}' as serving_tmp")
    try:
        for table in tables:
            con.execute(f"create table serving_tmp.main.{table} as select * from main.{table}")
            (counts[table],) = con.execute(
                f"select count(*) from serving_tmp.main.{table}"
            ).fetchall()[0]
        con.execute("checkpoint serving_tmp")
    finally:
        con.execute("detach serving_tmp")
    os.replace(tmp, serving)
    return counts


PUBLISHED_SNAPSHOTS_DDL = """
create table if not exists serving.published (
    snapshot_id bigint not null,
    published_at timestamp not null,
    row_counts json not null
)
"""


def publish_snapshot(con, tables: tuple[str, ...] = PUBLISHED_TABLES) -> tuple[int, dict[str, int]]:
    """Record the DuckLake's current snapshot as the published one; returns it and the row
    counts readers will see there."""
    import json

    from npl_assets.profiles import lake_snapshot

    counts = published_counts(con, tables)
    snapshot = lake_snapshot(con)
    con.execute("create schema if not exists serving")
    con.execute(PUBLISHED_SNAPSHOTS_DDL)
    con.execute(
        "insert into serving.published values (?, current_timestamp, ?)",
        [snapshot, json.dumps(counts)],
    )
    return snapshot, counts


def published_counts(con, tables: tuple[str, ...]) -> dict[str, int]:
    check_publishable(con, tables)
    return {t: con.execute(f"select count(*) from main.{t}").fetchall()[0][0] for t in tables}


def check_publishable(con, tables: tuple[str, ...]) -> None:
    """Every table to publish exists in the warehouse's `main` schema."""
    available = {
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' "
            "and database_name = current_database() "
            "union select view_name from duckdb_views() where schema_name = 'main' "
            "and database_name = current_database()"
        ).fetchall()
    }
    missing = [t for t in tables if t not in available]
    if missing:
        raise RuntimeError(f"cannot publish: warehouse lacks {', '.join(missing)}")


def top_sellers_markdown(con, limit: int = 10) -> str:
    frame = con.execute(
        f"""
        select quarter, seller, seller_type, listings, unpaid_total_yuan,
               weighted_avg_overdue_days, starting_price_ratio
        from main.seller_quarterly_metrics
        where quarter = (select max(quarter) from main.seller_quarterly_metrics)
        order by unpaid_total_yuan desc
        limit {int(limit)}
        """
    ).df()
    return frame.to_markdown(index=False) if len(frame) else "(no data)"


OPEN_PREVIEW_COLUMNS = (
    "status",
    "days_left",
    "registration_deadline",
    "seller",
    "seller_type",
    "asset_type",
    "unpaid_total_yuan",
    "weighted_avg_overdue_days",
    "project_name",
    "announcement_url",
)


def open_listings_markdown(con, limit: int = 20) -> str:
    """What buyers can act on, soonest deadline first: the UI's view of open_listings."""
    cursor = con.execute(
        f"""
        select {", ".join(OPEN_PREVIEW_COLUMNS)}, as_of
        from main.open_listings
        order by case status when 'open' then 0 when 'auction_pending' then 1 else 2 end,
                 registration_deadline nulls last, project_name
        limit {int(limit)}
        """
    )
    found = cursor.fetchall()
    (total, as_of) = con.execute("select count(*), max(as_of) from main.open_listings").fetchall()[
        0
    ]
    if not found:
        return f"(nothing open as of {as_of or 'the build time'})"
    frame = pd.DataFrame([r[:-1] for r in found], columns=list(OPEN_PREVIEW_COLUMNS))
    head = f"{total} open or undecided project(s) as of {as_of}"
    if total > limit:
        head += f"; the {limit} soonest shown (`npl open` lists them all)"
    return head + "\n\n" + frame.to_markdown(index=False)


@dg.asset(
    group_name="serving",
    kinds={"duckdb"},
    deps=[
        get_asset_key_for_model([npl_dbt_models], model)
        for model in (
            "seller_quarterly_metrics",
            "market_quarterly_metrics",
            "buyer_league",
            "open_listings",
        )
    ],
    pool="duckdb",
    automation_condition=downstream_condition(),
    # Readers get the new marts as soon as dbt and the blocking checks are done, before the
    # chart, the report and the non-blocking reconciliation checks take their turn.
    op_tags={"dagster/priority": "10"},
)
def serving_database(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: DataPaths
) -> dg.MaterializeResult:
    """The read-only copy of the marts that `npl sql` and any SQL client query
    (`data/npl_serving.duckdb`, replaced atomically after each successful build)."""
    serving = paths.serving_path()
    previous = previous_row_counts(context.instance, context.asset_key)
    with duckdb.get_connection() as con:
        if is_lake(con):
            snapshot, counts = publish_snapshot(con)
            where = f"DuckLake snapshot {snapshot}"
        else:
            counts = publish(con, serving)
            where = str(serving)
        preview = top_sellers_markdown(con)
        open_preview = open_listings_markdown(con)
    return dg.MaterializeResult(
        metadata={
            "path": where,
            "row_counts": dg.MetadataValue.json(counts),
            "changes_since_last_run": dg.MetadataValue.md(changes_markdown(previous, counts)),
            "top_sellers_latest_quarter": dg.MetadataValue.md(preview),
            "open_listings": dg.MetadataValue.md(open_preview),
        }
    )

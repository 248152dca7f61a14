"""The quarantine asset and the listing checks, materialised in-process on a temp DuckDB whose
raw.listings holds hand-made good and corrupted rows.

No `from __future__ import annotations`: Dagster resolves config and context annotations
from the live objects."""

from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from npl_assets import warehouse
from npl_assets.quality.asset_checks import results_expectations
from npl_assets.quality.asset_checks import stg_listings_check as build_stg_listings_check
from npl_assets.quality.assets import listing_quarantine
from npl_assets.resources import Locations, platform_resources
from npl_assets_tests.test_quality_rules import (
    CORRUPTIONS,
    edge_rows,
    listing_row,
    result_row,
    sha,
)

GOOD = [listing_row("good-1"), listing_row("good-2"), *edge_rows()]
BAD = [listing_row(name, **changes) for name, (changes, _) in CORRUPTIONS.items()]
SOFT_ONLY = [listing_row("no_overdue", weighted_avg_overdue_days=None)]


def insert(db: Path, table: str, rows: list[dict]) -> None:
    con = duckdb.connect(str(db))
    try:
        warehouse.ensure_schema(con)
        con.register("rows", pd.DataFrame(rows))
        con.execute(f"insert into {table} by name select * from rows")
    finally:
        con.close()


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def materialize_quarantine(db: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [dg.AssetSpec("raw_documents"), dg.AssetSpec("listings"), listing_quarantine],
        selection=dg.AssetSelection.assets(listing_quarantine),
        resources=platform_resources(Locations.under(db.parent)),
    )


@pytest.fixture
def warehouse_db(isolated_env: Path) -> Path:
    db = isolated_env / "npl.duckdb"
    insert(db, "raw.listings", [*GOOD, *BAD, *SOFT_ONLY])
    return db


def test_every_corrupted_listing_is_quarantined_with_its_reason(warehouse_db: Path) -> None:
    result = materialize_quarantine(warehouse_db)
    assert result.success

    rows = query(
        warehouse_db,
        "select sha256, expectation, severity, column_name, observed_value, reason, run_id"
        " from raw.listing_quarantine",
    )
    expected = {
        (sha(name), expectation)
        for name, (_, failing) in CORRUPTIONS.items()
        for expectation in failing
    }
    assert {(r[0], r[1]) for r in rows} == expected
    assert {r[2] for r in rows} == {"hard"}
    assert all(r[5] and r[6] == result.run_id for r in rows)
    negative = next(r for r in rows if r[1] == "unpaid_interest_yuan_non_negative")
    assert (negative[3], negative[4]) == ("unpaid_interest_yuan", "-5.00")
    assert "negative" in negative[5]


def test_good_rows_pass_and_nothing_is_dropped(warehouse_db: Path) -> None:
    materialize_quarantine(warehouse_db)
    everything = {r[0] for r in query(warehouse_db, "select sha256 from raw.listings")}
    quarantined = {r[0] for r in query(warehouse_db, "select sha256 from raw.listing_quarantine")}
    passing = {row["sha256"] for row in [*GOOD, *SOFT_ONLY]}
    # raw.listings keeps every row; each is either passing or quarantined, never both.
    assert everything == passing | quarantined
    assert passing.isdisjoint(quarantined)
    assert quarantined == {row["sha256"] for row in BAD}


def test_the_run_says_how_many_were_held_back_and_why(warehouse_db: Path) -> None:
    result = materialize_quarantine(warehouse_db)
    metadata = result.asset_materializations_for_node("listing_quarantine")[0].metadata
    assert metadata["held_back"].value == len(BAD)
    assert metadata["rows_checked"].value == len(GOOD) + len(BAD) + len(SOFT_ONLY)
    assert metadata["passed_to_marts"].value == len(GOOD) + len(SOFT_ONLY)
    assert metadata["soft_warnings"].value == 1
    reasons = metadata["reasons"].value
    for _, failing in CORRUPTIONS.values():
        for expectation in failing:
            assert expectation in reasons
    report = Path(metadata["report"].value)
    assert report.exists() and report.parent.name == "quality"


def test_listing_checks_report_failing_rows(warehouse_db: Path) -> None:
    result = materialize_quarantine(warehouse_db)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    hard, soft = evaluations["hard_expectations"], evaluations["soft_expectations"]
    # the suite ran once, in the quarantine step, which reports it as its own checks
    assert len(result.get_asset_check_evaluations()) == 2
    assert hard.asset_key == soft.asset_key == dg.AssetKey("listing_quarantine")
    assert not hard.passed and hard.severity == dg.AssetCheckSeverity.ERROR
    assert hard.metadata["held_back"].value == len(BAD)
    failing = hard.metadata["failing_rows"].value
    assert {(f["sha256"], f["expectation"]) for f in failing} == {
        (sha(name), e) for name, (_, failing) in CORRUPTIONS.items() for e in failing
    }
    assert all(f["title"] and "value" in f for f in failing)
    assert not soft.passed and soft.severity == dg.AssetCheckSeverity.WARN
    assert [f["sha256"] for f in soft.metadata["failing_rows"].value] == [sha("no_overdue")]


def test_a_fixed_and_replayed_listing_leaves_the_quarantine(warehouse_db: Path) -> None:
    materialize_quarantine(warehouse_db)
    fixed = sha("borrowers_above_loans")
    con = duckdb.connect(str(warehouse_db))
    try:
        con.execute("update raw.listings set borrowers = 12200 where sha256 = ?", [fixed])
    finally:
        con.close()
    result = materialize_quarantine(warehouse_db)
    quarantined = {r[0] for r in query(warehouse_db, "select sha256 from raw.listing_quarantine")}
    assert fixed not in quarantined
    assert quarantined == {row["sha256"] for row in BAD} - {fixed}
    metadata = result.asset_materializations_for_node("listing_quarantine")[0].metadata
    assert metadata["released"].value == 1
    assert metadata["newly_held_back"].value == 0


def test_clean_warehouse_has_an_empty_quarantine(isolated_env: Path) -> None:
    db = isolated_env / "npl.duckdb"
    insert(db, "raw.listings", GOOD)
    result = materialize_quarantine(db)
    assert query(db, "select count(*) from raw.listing_quarantine") == [(0,)]
    assert all(
        e.passed for e in result.get_asset_check_evaluations() if e.check_name.startswith("hard")
    )


def test_results_checks(isolated_env: Path) -> None:
    db = isolated_env / "npl.duckdb"
    rows = [result_row(), result_row("typo", project_code="NLP2023001161")]
    rows = [{**r, "parser_version": "test", "parsed_at": pd.Timestamp("2024-01-01")} for r in rows]
    insert(db, "raw.results", [*rows, {**rows[0], "sha256": sha("no_buyer"), "buyer": None}])
    result = dg.materialize(
        [dg.AssetSpec("results"), results_expectations],
        selection=dg.AssetSelection.checks(results_expectations),
        resources=platform_resources(Locations.under(db.parent)),
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    hard, soft = evaluations["hard_expectations"], evaluations["soft_expectations"]
    assert [(f["sha256"], f["expectation"]) for f in hard.metadata["failing_rows"].value] == [
        (sha("no_buyer"), "buyer_present")
    ]
    assert [f["value"] for f in soft.metadata["failing_rows"].value] == ["NLP2023001161"]
    assert soft.severity == dg.AssetCheckSeverity.WARN


# --- the blocking check on what flows to the marts ----------------------------------------------


class StagingConfig(dg.Config):
    # Simulates a stg_listings that forgot to exclude the quarantine.
    apply_quarantine: bool = True


@dg.asset(key="stg_listings", deps=["listing_quarantine"])
def fake_stg_listings(config: StagingConfig, duckdb: DuckDBResource) -> None:
    """raw.listings minus the quarantine, as the dbt model builds it."""
    where = (
        "where sha256 not in (select sha256 from raw.listing_quarantine)"
        if config.apply_quarantine
        else ""
    )
    with duckdb.get_connection() as con:
        con.execute(
            f"create or replace table main.stg_listings as select * from raw.listings {where}"
        )


@dg.asset(deps=["stg_listings"])
def downstream_mart() -> None:
    """Stands for the marts: must not build when stg_listings fails its blocking check."""


def materialize_to_marts(db: Path, apply_quarantine: bool) -> dg.ExecuteInProcessResult:
    stg_check = build_stg_listings_check(dg.AssetKey("stg_listings"))
    return dg.materialize(
        [
            dg.AssetSpec("raw_documents"),
            dg.AssetSpec("listings"),
            listing_quarantine,
            fake_stg_listings,
            stg_check,
            downstream_mart,
        ],
        resources=platform_resources(Locations.under(db.parent)),
        run_config=dg.RunConfig({"stg_listings": StagingConfig(apply_quarantine=apply_quarantine)}),
        raise_on_error=False,
    )


def stg_evaluation(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == dg.AssetKey("stg_listings")
    ]
    return evaluation


def test_blocking_check_passes_when_the_quarantine_is_applied(warehouse_db: Path) -> None:
    result = materialize_to_marts(warehouse_db, apply_quarantine=True)
    assert result.success
    evaluation = stg_evaluation(result)
    assert evaluation.passed
    assert evaluation.metadata["quarantined_in_warehouse"].value == len(BAD)
    assert result.asset_materializations_for_node("downstream_mart")


def test_blocking_check_stops_the_marts_when_quarantined_rows_leak(warehouse_db: Path) -> None:
    result = materialize_to_marts(warehouse_db, apply_quarantine=False)
    assert not result.success
    evaluation = stg_evaluation(result)
    assert not evaluation.passed
    leaked = {
        f["sha256"]
        for f in evaluation.metadata["failing_rows"].value
        if f["expectation"] == "not_quarantined"
    }
    assert leaked == {row["sha256"] for row in BAD}
    assert not result.asset_materializations_for_node("downstream_mart")

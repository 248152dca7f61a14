"""Asset checks: the GX suites run inside Dagster, reported as `AssetCheckResult`s whose
metadata names the failing rows (keys and values) and links the markdown report.

- listing_quarantine: the listing suite runs once per run, in that asset, which reports it as
  its own hard (ERROR, not blocking: it holds failing rows back) and soft (WARN) checks;
- listings, results: completeness (ERROR when a stored document is lost, WARN on failures);
- results: hard (ERROR) and soft (WARN);
- stg_listings: no quarantined sha256 reached the marts (BLOCKING);
- projects, seller_quarterly_metrics, market_quarterly_metrics, buyer_league: reconciliation
  (BLOCKING, so a broken mart is never published to the serving file);
- stg_sellers, stg_buyers: every name classified (WARN, names in the metadata).

`build_quality_checks(npl_dbt_models)` returns them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from npl_assets.completeness import Coverage, coverage, failures_by_type
from npl_assets.locations import DataPaths
from npl_assets.quality import marts
from npl_assets.quality.assets import LISTINGS_KEY, QUARANTINE_KEY
from npl_assets.quality.check_results import check_result
from npl_assets.quality.classification import BUYERS, SELLERS, unclassified_check
from npl_assets.quality.quarantine import quarantined_sha256s
from npl_assets.quality.rules import HARD, LISTING_SUITE, SOFT, Suite, not_quarantined_rule
from npl_assets.quality.summary import write_report
from npl_assets.quality.validation import ValidationReport, validate_listings, validate_results

RESULTS_KEY = dg.AssetKey("results")
# What flows to the marts was judged by the listing suite in the quarantine step; here only
# that none of what it held back got through.
STG_LISTINGS_SUITE = Suite("stg_listings", (), LISTING_SUITE.key_columns)


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "hard_expectations",
            asset=RESULTS_KEY,
            description="Project code (NPL + year + 6 digits, or the older 8 digits), buyer, "
            "seller and names present, one row per document, agreement before publication.",
        ),
        dg.AssetCheckSpec(
            "soft_expectations",
            asset=RESULTS_KEY,
            description="Project code prefix exactly NPL (one real code reads NLP).",
        ),
    ],
    pool="duckdb",
)
def results_expectations(duckdb: DuckDBResource, paths: DataPaths) -> Iterator[dg.AssetCheckResult]:
    with duckdb.get_connection() as con:
        frame = con.execute("select * from raw.results order by sha256").df()
    report = validate_results(frame)
    path = write_report(report, paths.quality_dir())
    yield check_result(report, HARD, path, asset_key=RESULTS_KEY, check_name="hard_expectations")
    yield check_result(report, SOFT, path, asset_key=RESULTS_KEY, check_name="soft_expectations")


def completeness_result(
    coverage: Coverage, failures: dict[str, int], asset_key: dg.AssetKey
) -> dg.AssetCheckResult:
    """ERROR when a stored document is neither parsed, quarantined nor failed (lost); WARN when
    any failed to parse or the site lists more than was stored; otherwise a pass."""
    missing = (coverage.on_site or 0) - coverage.stored
    passed = coverage.unaccounted == 0 and not coverage.failed and missing <= 0
    severity = dg.AssetCheckSeverity.ERROR if coverage.unaccounted else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name="completeness",
        passed=passed,
        severity=severity,
        description=coverage.line(),
        metadata={
            "on_site": (
                dg.MetadataValue.text("index not read")
                if coverage.on_site is None
                else dg.MetadataValue.int(coverage.on_site)
            ),
            "stored": dg.MetadataValue.int(coverage.stored),
            "parsed": dg.MetadataValue.int(coverage.parsed),
            "quarantined": dg.MetadataValue.int(coverage.quarantined),
            "failed": dg.MetadataValue.int(coverage.failed),
            "unaccounted": dg.MetadataValue.int(coverage.unaccounted),
            "failures_by_type": dg.MetadataValue.json(failures),
        },
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            "completeness",
            asset=key,
            description="Every stored document is parsed, quarantined or failed: fails when "
            "one is none of these (lost); warns, with counts by error type, when any failed "
            "to parse or the index lists more than was stored.",
        )
        for key in (LISTINGS_KEY, RESULTS_KEY)
    ],
    pool="duckdb",
)
def parsed_completeness(duckdb: DuckDBResource) -> Iterator[dg.AssetCheckResult]:
    keys = {"listing": LISTINGS_KEY, "result": RESULTS_KEY}
    with duckdb.get_connection() as con:
        for item in coverage(con):
            yield completeness_result(
                item, failures_by_type(con, item.doc_type), keys[item.doc_type]
            )


def stg_listings_check(stg_listings: dg.AssetKey) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=stg_listings,
        name="hard_expectations",
        blocking=True,
        additional_deps=[QUARANTINE_KEY],
        pool="duckdb",
        description="No quarantined sha256 among the rows that flow to the marts (the listing "
        "suite itself ran in listing_quarantine). Blocking: nothing downstream builds when it "
        "fails.",
    )
    def stg_listings_hard_expectations(
        duckdb: DuckDBResource, paths: DataPaths
    ) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            frame = con.execute("select * from main.stg_listings order by sha256").df()
            quarantined = quarantined_sha256s(con)
        report = validate_listings(
            frame, suite=STG_LISTINGS_SUITE, extra_rules=[not_quarantined_rule(quarantined)]
        )
        return check_result(
            report,
            HARD,
            write_report(report, paths.quality_dir()),
            extra={"quarantined_in_warehouse": dg.MetadataValue.int(len(quarantined))},
        )

    return stg_listings_hard_expectations


def reconciliation_check(
    asset: dg.AssetKey,
    name: str,
    inputs: list[dg.AssetKey],
    validate: Callable[[Any], ValidationReport],
    description: str,
) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name=name,
        blocking=True,
        additional_deps=inputs,
        pool="duckdb",
        description=description,
    )
    def _check(duckdb: DuckDBResource, paths: DataPaths) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            report = validate(con)
        return check_result(report, HARD, write_report(report, paths.quality_dir()))

    return _check


def build_quality_checks(dbt_assets: dg.AssetsDefinition) -> list[dg.AssetChecksDefinition]:
    """Every quality check; dbt model keys come from the manifest, never hard-coded."""

    def model(name: str) -> dg.AssetKey:
        return get_asset_key_for_model([dbt_assets], name)

    stg_listings, projects = model("stg_listings"), model("projects")
    return [
        results_expectations,
        parsed_completeness,
        stg_listings_check(stg_listings),
        reconciliation_check(
            projects,
            "reconciles_with_stg_listings",
            [stg_listings],
            marts.validate_projects,
            "Every stg_listings row is merged into exactly one project, and each project's "
            "figures are those of its latest announcement.",
        ),
        reconciliation_check(
            model("seller_quarterly_metrics"),
            "reconciles_with_projects",
            [projects],
            marts.validate_seller_metrics,
            "Counts and sums per seller and quarter equal the sums over projects; weighted "
            "overdue days within the min and max of the projects; starting-price ratio in (0, 1].",
        ),
        reconciliation_check(
            model("market_quarterly_metrics"),
            "reconciles_with_projects",
            [projects],
            marts.validate_market_metrics,
            "Counts and sums per quarter, seller type and asset type equal the sums over "
            "projects; weighted overdue days within the inputs' range; ratio in (0, 1].",
        ),
        reconciliation_check(
            model("buyer_league"),
            "reconciles_with_projects",
            [projects, model("int_result_matches")],
            marts.validate_buyer_league,
            "Per buyer, projects and sums bought equal those of the projects sold to it, and "
            "projects bought equal its sales in int_result_matches.",
        ),
        unclassified_check(SELLERS, model("stg_sellers")),
        unclassified_check(BUYERS, model("stg_buyers")),
    ]

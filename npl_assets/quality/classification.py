"""Soft checks that name every seller and buyer the dbt project left unclassified.

The classification itself lives in dbt (`stg_sellers`, `stg_buyers`: seeds, reference lists,
name rules); these checks only read its `*_type_source = 'none'` rows and put the names, with
the documents they appear in, into the check's metadata, so the reference seeds can be
extended from the Dagster UI. Severity WARN: an unclassified institution stays in the marts as
未分类 and nothing is held back. The dbt warn tests `assert_all_sellers_classified` and
`assert_all_buyers_classified` list the same rows for `dbt build` without Dagster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg
from dagster_duckdb import DuckDBResource

# Metadata stays readable; the dbt warn tests and the models list the rest.
NAMES_IN_METADATA = 200


@dataclass(frozen=True)
class Unclassified:
    """What one check reads: the model, its name column and the document counts to show."""

    check_name: str
    model: str
    what: str  # "seller" or "buyer", for the messages
    name_column: str
    count_columns: tuple[str, ...]
    seed_hint: str

    def sql(self) -> str:
        columns = ", ".join((self.name_column, *self.count_columns))
        weight = " + ".join(self.count_columns)
        return (
            f"select {columns} from main.{self.model}"
            f" where {self.what}_type_source = 'none'"
            f" order by {weight} desc, {self.name_column}"
        )


SELLERS = Unclassified(
    check_name="all_sellers_classified",
    model="stg_sellers",
    what="seller",
    name_column="seller",
    count_columns=("listing_documents", "result_documents"),
    seed_hint="dbt_project/seeds/sellers.csv or institutions.csv",
)
BUYERS = Unclassified(
    check_name="all_buyers_classified",
    model="stg_buyers",
    what="buyer",
    name_column="buyer_as_published",
    count_columns=("result_documents",),
    seed_hint="dbt_project/seeds/buyers.csv or buyer_aliases.csv",
)


def names_markdown(spec: Unclassified, rows: Sequence[tuple]) -> str:
    """The unclassified names as a markdown table, the heaviest first."""
    if not rows:
        return "none"
    header = ["name", *spec.count_columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows[:NAMES_IN_METADATA]]
    if len(rows) > NAMES_IN_METADATA:
        lines.append(f"\n… and {len(rows) - NAMES_IN_METADATA} more (see {spec.model})")
    return "\n".join(lines)


def unclassified_result(spec: Unclassified, rows: Sequence[tuple]) -> dg.AssetCheckResult:
    """Passes when every name is classified; else a WARN naming each unclassified one."""
    names = [row[0] for row in rows]
    description = (
        f"every {spec.what} is classified"
        if not rows
        else f"{len(rows)} {spec.what}(s) unclassified (未分类): add them to {spec.seed_hint}"
    )
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "unclassified": dg.MetadataValue.int(len(rows)),
            "names": dg.MetadataValue.json(names[:NAMES_IN_METADATA]),
            "table": dg.MetadataValue.md(names_markdown(spec, rows)),
        },
    )


def unclassified_check(spec: Unclassified, asset: dg.AssetKey) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name=spec.check_name,
        blocking=False,
        pool="duckdb",
        description=f"Lists, by name, every {spec.what} no seed row, reference list or name "
        f"rule classifies (they stay in the marts as 未分类). Warning only.",
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with duckdb.get_connection() as con:
            rows = con.execute(spec.sql()).fetchall()
        return unclassified_result(spec, rows)

    return _check

""" "What changed since the last run" on serving_database: row counts against the previous run."""

from __future__ import annotations

import dagster as dg
import pytest

from npl_assets.assets.row_changes import (
    changes_markdown,
    previous_row_counts,
    row_count_changes,
)


def test_changes_per_table() -> None:
    previous = {"projects": 40, "seller_quarterly_metrics": 12}
    current = {"projects": 41, "seller_quarterly_metrics": 12, "buyer_league": 3}
    assert row_count_changes(previous, current) == {
        "projects": 1,
        "seller_quarterly_metrics": 0,
        "buyer_league": 3,
    }


def test_markdown_shows_new_and_dropped_tables() -> None:
    text = changes_markdown({"projects": 40, "old_table": 5}, {"projects": 38, "sellers": 7})
    assert "| projects | 40 | 38 | -2 |" in text
    assert "| sellers | new | 7 | +7 |" in text
    assert "| old_table | 5 | dropped | -5 |" in text


def test_first_run_says_so() -> None:
    assert "First publication" in changes_markdown(None, {"projects": 1})


def test_previous_counts_come_from_the_latest_materialisation() -> None:
    runs = iter([{"projects": 10}, {"projects": 12}])

    @dg.asset
    def published() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"row_counts": dg.MetadataValue.json(next(runs))})

    instance = dg.DagsterInstance.ephemeral()
    assert previous_row_counts(instance, published.key) is None
    dg.materialize([published], instance=instance)
    assert previous_row_counts(instance, published.key) == {"projects": 10}
    dg.materialize([published], instance=instance)
    assert previous_row_counts(instance, published.key) == {"projects": 12}


def test_previous_counts_must_be_a_mapping() -> None:
    @dg.asset
    def odd() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"row_counts": dg.MetadataValue.json([1, 2])})

    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([odd], instance=instance)
    with pytest.raises(ValueError, match="not a mapping"):
        previous_row_counts(instance, odd.key)

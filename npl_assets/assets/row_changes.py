""" "What changed since the last run": row counts of this materialisation against the previous
one's metadata. Cheap: it reads one event from the instance, never the warehouse."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg


def previous_row_counts(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, metadata_key: str = "row_counts"
) -> dict[str, int] | None:
    """The `row_counts` JSON of the asset's latest materialisation, None if there is none."""
    event = instance.get_latest_materialization_event(asset_key)
    materialization = event.asset_materialization if event is not None else None
    if materialization is None or metadata_key not in materialization.metadata:
        return None
    value = materialization.metadata[metadata_key].value
    if not isinstance(value, Mapping):
        raise ValueError(f"{asset_key.to_user_string()}: metadata {metadata_key} is not a mapping")
    return {str(k): int(v) for k, v in value.items()}


def row_count_changes(
    previous: Mapping[str, int] | None, current: Mapping[str, int]
) -> dict[str, int]:
    """Rows gained (or lost) per table; a table new since the last run counts from zero."""
    before = previous or {}
    return {table: rows - before.get(table, 0) for table, rows in current.items()}


def changes_markdown(previous: Mapping[str, int] | None, current: Mapping[str, int]) -> str:
    if previous is None:
        return "First publication: no earlier run to compare with."
    changes = row_count_changes(previous, current)
    lines = ["| table | last run | this run | change |", "|---|---:|---:|---:|"]
    for table, rows in current.items():
        before = previous.get(table)
        shown = "new" if before is None else str(before)
        lines.append(f"| {table} | {shown} | {rows} | {changes[table]:+d} |")
    for table in sorted(set(previous) - set(current)):
        lines.append(f"| {table} | {previous[table]} | dropped | {-previous[table]:+d} |")
    return "\n".join(lines)

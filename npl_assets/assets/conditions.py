"""The declarative automation every asset below the crawl carries.

It is `AutomationCondition.eager()` with two changes:
- `missing` instead of `newly_missing`: eager only runs an asset that *becomes* missing after
  the condition is applied, so on a fresh instance the dbt seeds would never run and every
  model below them would wait forever (a missing parent blocks its children). A missing asset
  is requested once, and not again after its execution failed (no retry storm every tick);
- `code_version_changed`: dbt gives each model and seed a code version (its checksum), so an
  edited model or seed rebuilds by itself.

So one crawl cascades down in one run: raw_documents -> listings/results -> dbt models ->
serving_database/market_chart. The crawl itself has no condition: the daily schedule and the
new-announcement sensor start it."""

from __future__ import annotations

import dagster as dg

AC = dg.AutomationCondition


def downstream_condition() -> dg.AutomationCondition:
    missing_not_failed = (AC.missing() & ~AC.execution_failed()).with_label(
        "missing, and its last execution did not fail"
    )
    trigger = missing_not_failed | AC.any_deps_updated() | AC.code_version_changed()
    return (
        trigger.since_last_handled()
        & ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
    ).with_label("eager, or missing")

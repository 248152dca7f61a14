"""Sensors: new announcements on the indexes, the automation that follows a crawl, and the log
of failed runs. None of them opens the warehouse: DuckDB lets one process hold the file, and a
sensor that did would block (or be blocked by) every run."""

import os
from datetime import UTC, datetime

import dagster as dg

from npl_assets.automation import failures
from npl_assets.automation.schedules import CRAWL_TARGET
from npl_assets.crawler import index_watch
from npl_assets.locations import DataPaths, YindengSite

DEFAULT_SENSOR_INTERVAL_SECONDS = 300
AUTOMATION_INTERVAL_SECONDS = 30
WATCH_SENSOR = "new_announcements_sensor"
# Crawls in a row the sensor starts again after a failure; then it waits for new items or the
# daily schedule, rather than start a failing crawl every few minutes.
MAX_CRAWL_ATTEMPTS = 3
ATTEMPT_TAG = "npl/attempt"
CRAWLED_ASSET = dg.AssetKey("raw_documents")


def _positive_int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number of seconds, got {raw!r}") from exc
    if value < 1:
        raise ValueError(f"{name} must be at least 1 second, got {value}")
    return value


def sensor_interval_seconds() -> int:
    """How often the index pages are checked: NPL_SENSOR_INTERVAL (seconds), default 300."""
    return _positive_int_env("NPL_SENSOR_INTERVAL", DEFAULT_SENSOR_INTERVAL_SECONDS)


@dg.sensor(
    name=WATCH_SENSOR,
    target=CRAWL_TARGET,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reads page 1 of the listing and result indexes (one GET each, no PDF) and starts one "
        "run that crawls and builds everything below when an item appears that it has not "
        "seen. Polls the `site` resource's URL, the one the crawl reads (NPL_SOURCE_URL); "
        "interval NPL_SENSOR_INTERVAL seconds (default 300)."
    ),
)
def new_announcements_sensor(
    context: dg.SensorEvaluationContext, site: YindengSite
) -> dg.RunRequest | dg.SkipReason:
    base_url = site.watch_url()
    if not base_url:
        return dg.SkipReason(
            "no site to watch: the bundled site is served only during a crawl; set "
            "NPL_SOURCE_URL (`make dev` serves the bundled site and sets it)"
        )
    retry = retry_failed_crawl(context.instance)
    if retry is not None:
        context.log.warning("the last crawl this sensor started failed: %s", retry.tags["npl/why"])
        return retry
    seen_before = index_watch.decode_cursor(context.cursor)
    timeout = site.poll_timeout_seconds
    outcome = index_watch.check_indexes(
        base_url, seen_before, fetch=lambda url: index_watch.fetch_page(url, timeout)
    )
    context.update_cursor(index_watch.encode_cursor(index_watch.next_cursor(seen_before, outcome)))
    problems = "; ".join(f"{doc_type} index: {error}" for doc_type, error in outcome.errors.items())
    if problems:
        context.log.warning("index check failed: %s", problems)
    if not outcome.new_count:
        if problems:
            return dg.SkipReason(f"could not check {base_url}: {problems}")
        return dg.SkipReason(f"no new announcement on page 1 of either index at {base_url}")
    for doc_type, refused in outcome.refused.items():
        context.log.warning(
            "%s index: links a crawl would refuse: %s", doc_type, "; ".join(refused)
        )
    new_keys = [item.key for items in outcome.new_items.values() for item in items]
    context.log.info("%d new announcements: %s", len(new_keys), ", ".join(new_keys[:10]))
    return dg.RunRequest(
        run_key=index_watch.run_key(outcome.new_items),
        tags={
            "npl/trigger": "new_announcements_sensor",
            "npl/new_listings": str(len(outcome.new_items.get("listing", []))),
            "npl/new_results": str(len(outcome.new_items.get("result", []))),
        },
    )


def crawled_since(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether a crawl (the schedule's, a manual one) has ended well since that run ended."""
    record = instance.get_run_record_by_id(run_id)
    ended = record.end_time if record is not None else None
    if ended is None:
        return False
    latest = [
        instance.fetch_materializations(CRAWLED_ASSET, limit=1).records,
        instance.fetch_observations(CRAWLED_ASSET, limit=1).records,
    ]
    return any(records and records[0].timestamp > ended for records in latest)


def retry_failed_crawl(instance: dg.DagsterInstance) -> dg.RunRequest | None:
    """The crawl again, if the last one this sensor started failed. The cursor already counts
    that crawl's new items as seen, so without this they would wait for the daily schedule."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(tags={"dagster/sensor_name": WATCH_SENSOR}), limit=1
    )
    if not runs:
        return None
    last = runs[0]
    if last.status != dg.DagsterRunStatus.FAILURE:  # a cancelled crawl was meant to stop
        return None
    attempt = int(last.tags.get(ATTEMPT_TAG, "1"))
    if attempt >= MAX_CRAWL_ATTEMPTS or crawled_since(instance, last.run_id):
        return None
    return dg.RunRequest(
        run_key=f"retry-{last.run_id}",
        tags={
            "npl/trigger": WATCH_SENSOR,
            ATTEMPT_TAG: str(attempt + 1),
            "npl/why": f"run {last.run_id} ended {last.status.value}: attempt {attempt + 1} "
            f"of {MAX_CRAWL_ATTEMPTS}",
        },
    )


# Evaluates the AutomationConditions (see `conditions`) of every asset; an explicit sensor
# rather than the implicit default one so that it starts running with the daemon.
downstream_automation_sensor = dg.AutomationConditionSensorDefinition(
    name="downstream_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=AUTOMATION_INTERVAL_SECONDS,
    description="Runs parsing, dbt and publishing after every crawl (declarative automation).",
)


def root_cause_message(event: dg.DagsterEvent) -> str:
    """The innermost error of an event: Dagster wraps a step's exception in its own, whose
    message only says which op failed."""
    error = getattr(event.event_specific_data, "error", None)
    if error is None:
        return (event.message or "").strip()
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def failure_from_context(context: dg.RunFailureSensorContext) -> failures.RunFailure:
    step_events = context.get_step_failure_events()
    if step_events:
        error_text = "\n".join(
            f"{event.step_key}: {root_cause_message(event)}" for event in step_events
        )
    else:
        error_text = root_cause_message(context.failure_event) or "run failed, no error given"
    # A DagsterEvent carries no time; the run record knows when the run ended.
    record = context.instance.get_run_record_by_id(context.dagster_run.run_id)
    ended = record.end_time if record is not None and record.end_time else None
    failed_at = (datetime.fromtimestamp(ended, UTC) if ended else datetime.now(UTC)).replace(
        tzinfo=None
    )
    return failures.RunFailure(
        run_id=context.dagster_run.run_id,
        job_name=context.dagster_run.job_name,
        failed_steps=tuple(event.step_key for event in step_events if event.step_key),
        error=error_text,
        failed_at=failed_at,
    )


@dg.run_failure_sensor(
    name="run_failure_log_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Records every failed run (run id, job, failed steps, error, time) in "
    "`ops.duckdb` table run_failures and in the sensor log.",
)
def run_failure_log_sensor(context: dg.RunFailureSensorContext, paths: DataPaths) -> None:
    failure = failure_from_context(context)
    added = failures.record_failure(paths.ops_database(), failure)
    context.log.error(
        "%s%s", failures.format_failure(failure), "" if added else " (already recorded)"
    )


@dg.sensor(
    name="dead_run_sensor",
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Marks runs whose processes died without ending them (kill -9, OOM) as failed "
    "and frees their `duckdb` pool slot, so the run queue (one run at a time) moves on.",
)
def dead_run_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    # A run killed outright stays STARTED forever; under the daemon it holds the only run slot,
    # so no later run starts and the warehouse resource's own recovery never gets to run.
    from npl_assets.warehouse.recovery import release_dead_runs

    released = release_dead_runs(context.instance)
    for run in released:
        context.log.warning("released run %s (%s): %s", run.run_id, run.status_before, run.reason)
    if not released:
        return dg.SkipReason("no dead runs")
    return dg.SkipReason(
        f"released {len(released)} run(s): " + ", ".join(r.run_id for r in released)
    )

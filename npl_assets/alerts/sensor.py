"""The alert sensor: after each publish of the serving file (which follows every new parse), it
queues a message per rule for each matching new listing and delivers what is due. It launches
no run and never opens the warehouse; a failed delivery waits for a later tick, never the
pipeline. Each tick's SkipReason says what was sent."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
from pydantic import Field

from npl_assets.alerts import engine
from npl_assets.alerts.rules import RuleFileError, load_rules, rules_fingerprint
from npl_assets.openings.clock import parse_as_of

ALERT_SENSOR = "open_listing_alerts_sensor"
SERVING_ASSET = dg.AssetKey("serving_database")


class AlertsResource(dg.ConfigurableResource):
    """Where the alert rules and the delivery table live, and how deliveries are retried."""

    rules_path: str = Field(description="Rule file (YAML); the platform's: <data dir>/alerts.yaml.")
    state_path: str = Field(
        description="Delivery table (SQLite); the platform's: <data dir>/alerts.sqlite."
    )
    serving_path: str = Field(description="Serving file to read listings from (the published one).")
    as_of: str | None = Field(
        default=None,
        description="'Now' for closed-deadline checks (YYYY-MM-DD[ HH:MM], Beijing); empty: now.",
    )
    retry_base_seconds: float = Field(default=30.0, description="First retry delay; doubles.")
    max_backoff_seconds: float = Field(default=3600.0)
    max_attempts: int = Field(default=8, description="Attempts before a delivery is given up.")
    max_sends_per_tick: int = Field(default=20)

    def rules_file(self) -> Path:
        return Path(self.rules_path)

    def state_file(self) -> Path:
        return Path(self.state_path)

    def serving_file(self) -> Path:
        return Path(self.serving_path)

    def secrets(self) -> Mapping[str, str]:
        """Where the secrets a rule names (url_env, password_env) are looked up, at send time:
        the deployment's environment, never the rule file or the run config."""
        return os.environ

    def policy(self) -> engine.RetryPolicy:
        return engine.RetryPolicy(
            self.retry_base_seconds, self.max_backoff_seconds, self.max_attempts
        )


def _decode(cursor: str | None) -> dict:
    try:
        return json.loads(cursor) if cursor else {}
    except json.JSONDecodeError:
        return {}


def latest_publish(instance: dg.DagsterInstance) -> int | None:
    records = instance.fetch_materializations(SERVING_ASSET, limit=1).records
    return records[0].storage_id if records else None


@dg.sensor(
    name=ALERT_SENSOR,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Buyer alerts: after each publish of the serving file, one message per rule for each new "
        "listing that matches it (webhook bots or e-mail), sent once and retried with backoff. "
        "Rules: AlertsResource.rules_path (default data/alerts.yaml)."
    ),
)
def open_listing_alerts_sensor(
    context: dg.SensorEvaluationContext, alerts: AlertsResource
) -> dg.SkipReason:
    rules_file = alerts.rules_file()
    try:
        rules = load_rules(rules_file)
    except RuleFileError as exc:
        context.log.error(str(exc))
        return dg.SkipReason(f"rule file unusable: {exc}")
    if not rules:
        return dg.SkipReason(f"no alert rules ({rules_file} is missing or empty)")
    before = _decode(context.cursor)
    cursor = {"serving": latest_publish(context.instance), "rules": rules_fingerprint(rules_file)}
    report = engine.PassReport()
    # A new publish, a changed rule file, or a first tick (a restart) reads the listings; the
    # delivery table makes a repeated scan harmless.
    if not before or before != cursor:
        serving = alerts.serving_file()
        if not serving.exists():
            return dg.SkipReason(f"no serving file at {serving} yet")
        listings = engine.read_listings(serving)
        engine.scan(alerts.state_file(), rules, listings, parse_as_of(alerts.as_of), report)
    engine.deliver_due(
        alerts.state_file(),
        rules,
        alerts.secrets(),
        alerts.policy(),
        report,
        limit=alerts.max_sends_per_tick,
    )
    context.update_cursor(json.dumps(cursor))
    summary = report.summary()
    for rule, dest, project, attempt in report.sent:
        context.log.info("alert sent: rule %s → %s: %s (attempt %d)", rule, dest, project, attempt)
    for rule, dest, project, error in report.failed:
        context.log.warning("alert failed: rule %s → %s: %s: %s", rule, dest, project, error)
    return dg.SkipReason(summary)

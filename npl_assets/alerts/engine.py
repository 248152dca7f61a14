"""One alert pass: find the listings each rule has not seen, queue a message per matching one,
then attempt the deliveries that are due. No Dagster here; the sensor drives it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from npl_assets.alerts import state
from npl_assets.alerts.messages import Message, build_message
from npl_assets.alerts.rules import Destination, Rule
from npl_assets.alerts.send import DeliveryError, deliver

Sender = Callable[[Destination, str, Message, Mapping[str, str]], str]

LISTING_COLUMNS = (
    "sha256", "project_id", "project_name", "title", "is_relisting", "seller", "seller_type",
    "asset_type", "unpaid_total_yuan", "borrowers", "weighted_avg_overdue_days",
    "starting_price_yuan", "registration_deadline", "bid_date", "publication_date",
    "listing_date", "announcement_url", "announcement_pdf_url",
)  # fmt: skip


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 30.0
    max_backoff_seconds: float = 3600.0
    max_attempts: int = 8

    def next_attempt(self, attempts_done: int, now: float) -> float | None:
        """When to try again after `attempts_done` failures; None: give up."""
        if attempts_done >= self.max_attempts:
            return None
        return now + min(self.base_seconds * 2 ** (attempts_done - 1), self.max_backoff_seconds)


@dataclass
class PassReport:
    baselined: dict[str, int] = field(default_factory=dict)
    queued: list[tuple[str, str, str]] = field(default_factory=list)  # rule, dest, project
    sent: list[tuple[str, str, str, int]] = field(default_factory=list)  # + attempt number
    failed: list[tuple[str, str, str, str]] = field(default_factory=list)  # + error
    gave_up: list[tuple[str, str, str]] = field(default_factory=list)
    pending: int = 0
    next_retry_in: float | None = None

    def summary(self) -> str:
        parts: list[str] = []
        if self.sent:
            parts.append(
                f"sent {len(self.sent)}: "
                + "; ".join(f"{r} → {d}: {p} (attempt {n})" for r, d, p, n in self.sent[:10])
            )
        if self.failed:
            parts.append(
                f"{len(self.failed)} attempt(s) failed: "
                + "; ".join(f"{r} → {d}: {e}" for r, d, _, e in self.failed[:5])
            )
        if self.gave_up:
            parts.append(
                f"gave up on {len(self.gave_up)}: "
                + "; ".join(f"{r} → {d}: {p}" for r, d, p in self.gave_up[:5])
            )
        if self.queued:
            parts.append(f"queued {len(self.queued)}")
        if self.baselined:
            parts.append(
                "new rule(s) start from the listings already published (not alerted): "
                + ", ".join(f"{r} ({n})" for r, n in self.baselined.items())
            )
        if self.pending:
            when = f", next in {self.next_retry_in:.0f} s" if self.next_retry_in is not None else ""
            parts.append(f"{self.pending} waiting to be retried{when}")
        return "; ".join(parts) or "no new matching listing"


def read_listings(serving: Path) -> list[dict]:
    """Every published listing, from the serving file (read-only: never the warehouse)."""
    from npl_assets.sql import connect_serving

    con = connect_serving(serving)
    try:
        available = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns"
                " where table_name = 'stg_listings'"
            ).fetchall()
        }
        columns = [c for c in LISTING_COLUMNS if c in available]
        cursor = con.execute(f"select {', '.join(columns)} from stg_listings order by sha256")
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def is_closed(listing: dict, as_of: datetime) -> bool:
    deadline = listing.get("registration_deadline")
    return isinstance(deadline, datetime) and deadline <= as_of


def scan(
    state_path: Path, rules: list[Rule], listings: list[dict], as_of: datetime, report: PassReport
) -> None:
    """Queue one delivery per (rule, destination) for each listing the rule has not seen and
    that matches it. A rule seen for the first time starts from what is already published."""
    now = time.time()
    with state.open_state(state_path) as con:
        known = state.baselined_rules(con)
        for rule in rules:
            if rule.name not in known:
                state.baseline(con, rule.name, [row["sha256"] for row in listings], now)
                report.baselined[rule.name] = len(listings)
                continue
            seen = state.seen_shas(con, rule.name)
            for row in listings:
                sha = row["sha256"]
                if sha in seen:
                    continue
                if not rule.filters.matches(row):
                    state.mark_seen(con, rule.name, sha, "no_match", now)
                    continue
                if rule.only_open and is_closed(row, as_of):
                    state.mark_seen(con, rule.name, sha, "closed", now)
                    continue
                message = build_message(rule.name, {**row, "listing_sha256": sha}, as_of)
                for dest in rule.destinations:
                    if state.queue(
                        con, rule.name, dest.name, sha, row.get("project_name"),
                        message.__dict__, now,
                    ):  # fmt: skip
                        report.queued.append((rule.name, dest.name, str(row.get("project_name"))))
                state.mark_seen(con, rule.name, sha, "queued", now)


def deliver_due(
    state_path: Path,
    rules: list[Rule],
    environ: Mapping[str, str],
    policy: RetryPolicy,
    report: PassReport,
    limit: int = 20,
    sender: Sender = deliver,
    budget_seconds: float = 30.0,
) -> None:
    """Attempt every due delivery once, within `budget_seconds` (a sensor tick has about a
    minute; what is left waits for the next tick). The network calls run outside any
    transaction; each outcome is committed on its own, so a crash loses at most the attempt in
    flight."""
    destinations = {(r.name, d.name): d for r in rules for d in r.destinations}
    with state.open_state(state_path) as con:
        batch = state.due(con, time.time(), limit)
    deadline = time.monotonic() + budget_seconds
    for item in batch:
        if time.monotonic() > deadline:
            break
        message = Message(**item.message)
        dest = destinations.get((item.rule, item.destination))
        project = item.project_name or item.listing_sha256[:12]
        try:
            if dest is None:
                raise DeliveryError("the rule or destination is no longer in the rule file")
            detail, ok = sender(dest, item.rule, message, environ), True
        except DeliveryError as exc:
            detail, ok = str(exc), False
        now = time.time()
        retry_at = None if ok or dest is None else policy.next_attempt(item.attempts + 1, now)
        with state.open_state(state_path) as con:
            status = state.record_attempt(con, item, ok, detail, now, retry_at)
        if ok:
            report.sent.append((item.rule, item.destination, project, item.attempts + 1))
        elif status == "failed":
            report.gave_up.append((item.rule, item.destination, project))
            report.failed.append((item.rule, item.destination, project, detail))
        else:
            report.failed.append((item.rule, item.destination, project, detail))
    with state.open_state(state_path) as con:
        count, soonest = state.pending_summary(con)
    report.pending = count
    report.next_retry_in = max(0.0, soonest - time.time()) if soonest is not None else None

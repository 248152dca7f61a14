"""The delivery table: which listings each rule has seen, and every alert with its attempts.

A small SQLite file of its own, never the warehouse: DuckDB lets one process hold its file, and
the sensor must neither block a run nor be blocked by one. Each step is one transaction, so a
restart finds every alert either queued or sent: none repeated, none lost. (An attempt that
crashes between the POST and the commit is retried: a duplicate in that millisecond window is
preferred to a loss.)"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
create table if not exists rule_baselines (
    rule text primary key,
    baselined_at real not null,
    listings integer not null
);
create table if not exists seen_listings (
    rule text not null,
    listing_sha256 text not null,
    seen_at real not null,
    outcome text not null,          -- 'baseline' | 'queued' | 'no_match' | 'closed'
    primary key (rule, listing_sha256)
);
create table if not exists deliveries (
    rule text not null,
    destination text not null,
    listing_sha256 text not null,
    project_name text,
    message_json text not null,     -- the message as first built: a retry sends the same text
    status text not null,           -- 'pending' | 'sent' | 'failed' (gave up)
    attempts integer not null default 0,
    queued_at real not null,
    next_attempt_at real not null,
    last_attempt_at real,
    last_error text,
    outcome text,
    sent_at real,
    primary key (rule, destination, listing_sha256)
);
create table if not exists delivery_attempts (
    rule text not null,
    destination text not null,
    listing_sha256 text not null,
    attempt integer not null,
    attempted_at real not null,
    ok integer not null,
    detail text,
    primary key (rule, destination, listing_sha256, attempt)
);
"""


@dataclass(frozen=True)
class Delivery:
    rule: str
    destination: str
    listing_sha256: str
    project_name: str | None
    message: dict
    attempts: int


@contextmanager
def open_state(path: Path) -> Iterator[sqlite3.Connection]:
    """A short-lived connection; commits on success, rolls back on error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    try:
        con.execute("pragma journal_mode=wal")
        con.executescript(SCHEMA)
        con.execute("begin immediate")
        try:
            yield con
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    finally:
        con.close()


def baselined_rules(con: sqlite3.Connection) -> set[str]:
    return {r for (r,) in con.execute("select rule from rule_baselines")}


def baseline(con: sqlite3.Connection, rule: str, shas: list[str], now: float) -> None:
    con.executemany(
        "insert or ignore into seen_listings values (?, ?, ?, 'baseline')",
        [(rule, sha, now) for sha in shas],
    )
    con.execute("insert or replace into rule_baselines values (?, ?, ?)", (rule, now, len(shas)))


def seen_shas(con: sqlite3.Connection, rule: str) -> set[str]:
    return {
        s
        for (s,) in con.execute("select listing_sha256 from seen_listings where rule = ?", (rule,))
    }


def mark_seen(con: sqlite3.Connection, rule: str, sha: str, outcome: str, now: float) -> None:
    con.execute(
        "insert or ignore into seen_listings values (?, ?, ?, ?)", (rule, sha, now, outcome)
    )


def queue(
    con: sqlite3.Connection,
    rule: str,
    destination: str,
    sha: str,
    project_name: str | None,
    message: dict,
    now: float,
) -> bool:
    cursor = con.execute(
        """insert or ignore into deliveries
           (rule, destination, listing_sha256, project_name, message_json, status, attempts,
            queued_at, next_attempt_at)
           values (?, ?, ?, ?, ?, 'pending', 0, ?, ?)""",
        (rule, destination, sha, project_name, json.dumps(message, ensure_ascii=False), now, now),
    )
    return cursor.rowcount == 1


def due(con: sqlite3.Connection, now: float, limit: int) -> list[Delivery]:
    rows = con.execute(
        """select rule, destination, listing_sha256, project_name, message_json, attempts
           from deliveries where status = 'pending' and next_attempt_at <= ?
           order by next_attempt_at, queued_at limit ?""",
        (now, limit),
    ).fetchall()
    return [Delivery(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]


def record_attempt(
    con: sqlite3.Connection,
    delivery: Delivery,
    ok: bool,
    detail: str,
    now: float,
    next_attempt_at: float | None,
) -> str:
    """Store one attempt; returns the delivery's new status."""
    attempt = delivery.attempts + 1
    con.execute(
        "insert or replace into delivery_attempts values (?, ?, ?, ?, ?, ?, ?)",
        (
            delivery.rule,
            delivery.destination,
            delivery.listing_sha256,
            attempt,
            now,
            int(ok),
            detail,
        ),
    )
    status = "sent" if ok else ("pending" if next_attempt_at is not None else "failed")
    con.execute(
        """update deliveries set status = ?, attempts = ?, last_attempt_at = ?,
               next_attempt_at = coalesce(?, next_attempt_at),
               last_error = case when ? then last_error else ? end,
               outcome = ?, sent_at = case when ? then ? else sent_at end
           where rule = ? and destination = ? and listing_sha256 = ?""",
        (
            status, attempt, now, next_attempt_at, ok, detail, detail, ok, now,
            delivery.rule, delivery.destination, delivery.listing_sha256,
        ),
    )  # fmt: skip
    return status


def pending_summary(con: sqlite3.Connection) -> tuple[int, float | None]:
    count, soonest = con.execute(
        "select count(*), min(next_attempt_at) from deliveries where status = 'pending'"
    ).fetchone()
    return int(count), soonest

"""How cost grows with size, for parse, load, dbt and the checks.

Parse is timed with the pipeline's own `parse_many` (a process pool from 200 documents on) over
the PDFs the main run stored, at 1k and 10k documents. Load, dbt and the checks are timed at 1k,
10k and 100k listings on warehouses synthesised from the main run's parsed rows, since rendering
100k PDFs is too slow here: a size below the main run's is its oldest listings (and the results
and documents published by then); a larger size repeats all parsed rows, each copy with new
sha256s and every date, year, project name and project code moved on by 8 years, so that copies
fall into quarters of their own and never merge into each other's projects. Rows enter the
warehouse through the real `store_crawl` / `store_outcomes` in the same form `parse_stored`
produces them (money and dates as text, count lists as JSON), then the real quarantine, dbt
assets, checks and serving publish are materialised in-process."""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from harness.isolation import IsolatedPlatform

LISTING_SIZES = (1_000, 10_000, 100_000)
PARSE_SIZES = (1_000, 10_000)
# Copies move on by whole leap cycles, so 29 February stays a valid date.
SHIFT_YEARS = 8
SHIFT = timedelta(days=SHIFT_YEARS * 365 + SHIFT_YEARS // 4)
MAX_YEAR = 9000  # well inside Python's and DuckDB's date range, with room for deadlines
YEAR_IN_NAME = re.compile(r"(\d{4})年")
CODE_YEAR = re.compile(r"^([A-Z]{3})(\d{4})")
MINUTE_COLUMNS = {"registration_deadline", "auction_start", "auction_end"}
# A growth exponent above this between two sizes counts as worse than linear (timings on a
# shared 2-core machine wobble by a few per cent).
LINEAR_TOLERANCE = 1.15


@dataclass(frozen=True)
class BaseRows:
    """The main run's raw rows, in the form the pipeline's Python code hands to DuckDB."""

    documents: list[dict[str, Any]]
    listings: list[dict[str, Any]]
    results: list[dict[str, Any]]


@dataclass
class SizePoint:
    listings: int
    results: int
    documents: int
    copies: int
    load_seconds: float
    documents_load_seconds: float
    steps: dict[str, float] = field(default_factory=dict)
    dbt_seconds: float = 0.0
    dbt_reported_seconds: float = 0.0  # dbt's own run, from its closing log line
    checks_seconds: float = 0.0
    publish_seconds: float = 0.0

    @property
    def load_rows_per_s(self) -> float:
        rows = self.listings + self.results
        return rows / self.load_seconds if self.load_seconds else 0.0


@dataclass
class ParsePoint:
    documents: int
    seconds: float
    requested: int

    @property
    def docs_per_s(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0


def growth_exponent(n1: float, t1: float, n2: float, t2: float) -> float | None:
    """b in t ~ n^b between two sizes: 1 is linear, below 1 better (fixed costs amortised)."""
    if min(n1, n2, t1, t2) <= 0 or n1 == n2:
        return None
    return math.log(t2 / t1) / math.log(n2 / n1)


# --- rows in the pipeline's form ----------------------------------------------------------------


def _as_pipeline_value(column: str, value: Any) -> Any:
    """A DuckDB value back in the form parse_stored gives it (see the shared data contract)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        if column in MINUTE_COLUMNS:
            return value.strftime("%Y-%m-%dT%H:%M")
        return value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _fetch_dicts(con: Any, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [
        {name: _as_pipeline_value(name, value) for name, value in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def read_base_rows(warehouse_path: Path) -> BaseRows:
    from npl_assets import warehouse
    from npl_assets.warehouse.loading import DOCUMENT_COLUMNS

    with warehouse.connect(warehouse_path, read_only=True) as con:
        documents = _fetch_dicts(
            con, f"select {', '.join(DOCUMENT_COLUMNS)} from raw.documents order by sha256"
        )
        listings = _fetch_dicts(con, "select * from raw.listings")
        results = _fetch_dicts(con, "select * from raw.results")
    dates = {d["sha256"]: d["list_date"] for d in documents}
    # Oldest first, so that a prefix is a warehouse as it stood on some day.
    listings.sort(key=lambda r: (_day_of(r, dates), r["sha256"]))
    results.sort(key=lambda r: (_day_of(r, dates), r["sha256"]))
    return BaseRows(documents, listings, results)


def _shift_day(text: str | None, copy: int) -> str | None:
    if not text:
        return text
    return (date.fromisoformat(text) + SHIFT * copy).isoformat()


def _shift_minute(text: str | None, copy: int) -> str | None:
    if not text:
        return text
    return (datetime.fromisoformat(text) + SHIFT * copy).strftime("%Y-%m-%dT%H:%M")


def _shift_name(text: str | None, copy: int) -> str | None:
    if not text or copy == 0:
        return text
    shifted, found = YEAR_IN_NAME.subn(
        lambda m: f"{int(m.group(1)) + SHIFT_YEARS * copy}年", text, count=1
    )
    return shifted if found else f"副本{copy}{text}"


def new_sha(sha: str, copy: int) -> str:
    return sha if copy == 0 else hashlib.sha256(f"{copy}:{sha}".encode()).hexdigest()


def _moved_on(row: dict[str, Any], copy: int, day_columns: tuple[str, ...]) -> dict[str, Any]:
    """What every copy of a row changes: its sha256, its title and its dates (`day_columns`)."""
    out = dict(row)
    out["sha256"] = new_sha(row["sha256"], copy)
    out["title"] = _shift_name(row["title"], copy)
    for column in day_columns:
        out[column] = _shift_day(row.get(column), copy)
    return out


def shifted_listing(row: dict[str, Any], copy: int) -> dict[str, Any]:
    if copy == 0:
        return dict(row)
    out = _moved_on(row, copy, ("transaction_base_date", "bid_date", "publication_date"))
    for column in MINUTE_COLUMNS:
        out[column] = _shift_minute(row.get(column), copy)
    if row.get("batch_year") is not None:
        out["batch_year"] = row["batch_year"] + SHIFT_YEARS * copy
    out["project_name"] = _shift_name(row["project_name"], copy)
    return out


def shifted_result(row: dict[str, Any], copy: int) -> dict[str, Any]:
    if copy == 0:
        return dict(row)
    out = _moved_on(row, copy, ("agreement_signed_date", "publication_date"))
    out["project_name"] = _shift_name(row["project_name"], copy)
    code = row.get("project_code")
    if code:
        out["project_code"] = CODE_YEAR.sub(
            lambda m: f"{m.group(1)}{int(m.group(2)) + SHIFT_YEARS * copy}", code, count=1
        )
    return out


def shifted_document(row: dict[str, Any], copy: int) -> dict[str, Any]:
    if copy == 0:
        return dict(row)
    out = _moved_on(row, copy, ("list_date",))
    out["detail_url"] = f"{row['detail_url']}?copy={copy}"
    out["pdf_url"] = f"{row['pdf_url']}?copy={copy}"
    return out


@dataclass(frozen=True)
class Synthesised:
    documents: list[dict[str, Any]]
    listings: list[dict[str, Any]]
    results: list[dict[str, Any]]
    copies: int


def _day_of(row: dict[str, Any], dates: dict[str, Any]) -> str:
    return row.get("publication_date") or dates.get(row["sha256"]) or ""


def synthesise(base: BaseRows, listings: int) -> Synthesised:
    """`listings` listing rows (the oldest first, in copies as needed), the results published
    by the last one's date, and the documents of both."""
    if not base.listings:
        raise ValueError("the main run parsed no listing: nothing to scale from")
    copies = max(1, math.ceil(listings / len(base.listings)))
    last_year = max(int(str(_day_of(r, {}) or "2000")[:4]) for r in base.listings)
    if last_year + SHIFT_YEARS * copies > MAX_YEAR:
        raise ValueError(
            f"{listings:,} listings from {len(base.listings):,} parsed ones takes {copies:,} "
            f"copies {SHIFT_YEARS} years apart, past the year {MAX_YEAR}: use a larger site"
        )
    listing_rows = [shifted_listing(r, k) for k in range(copies) for r in base.listings][:listings]
    base_dates = {d["sha256"]: d["list_date"] for d in base.documents}
    dates = {
        new_sha(sha, k): _shift_day(day, k)
        for k in range(copies)
        for sha, day in base_dates.items()
    }
    cutoff = _day_of(listing_rows[-1], dates)
    result_rows = [
        row
        for k in range(copies)
        for row in (shifted_result(r, k) for r in base.results)
        if _day_of(row, dates) <= cutoff
    ]
    wanted = {r["sha256"] for r in listing_rows} | {r["sha256"] for r in result_rows}
    documents = [
        doc
        for k in range(copies)
        for doc in (shifted_document(d, k) for d in base.documents)
        if doc["sha256"] in wanted
    ]
    return Synthesised(documents, listing_rows, result_rows, copies)


# --- measuring one size -------------------------------------------------------------------------


def load_rows(con: Any, rows: Synthesised) -> tuple[float, float]:
    """Insert `rows` with the pipeline's own functions; (documents seconds, parsed rows seconds)."""
    import pandas as pd

    from npl_assets.warehouse.loading import (
        DOCUMENT_COLUMNS,
        FAILURE_COLUMNS,
        ParseOutcome,
        store_crawl,
        store_outcomes,
    )

    started = time.perf_counter()
    store_crawl(
        con,
        pd.DataFrame(rows.documents, columns=DOCUMENT_COLUMNS),
        pd.DataFrame([], columns=FAILURE_COLUMNS),
        "bench",
    )
    documents_seconds = time.perf_counter() - started
    started = time.perf_counter()
    store_outcomes(con, "listings", (ParseOutcome(r["sha256"], r, None) for r in rows.listings))
    store_outcomes(con, "results", (ParseOutcome(r["sha256"], r, None) for r in rows.results))
    return documents_seconds, time.perf_counter() - started


def load_into(path: Path, rows: Synthesised, repeats: int = 2) -> tuple[float, float]:
    """Load `rows` into a fresh warehouse at `path`, best of `repeats` (each into a new file;
    the last one stays). The bench process holds millions of synthesised row objects that the
    pipeline's own process never would: they are moved out of the garbage collector's sight
    (gc.freeze) while timing, so its full collections do not bill them to the load."""
    import gc

    from npl_assets import warehouse

    best_documents = best_rows = float("inf")
    for _ in range(repeats):
        for stale in (path, path.with_name(path.name + ".wal")):
            stale.unlink(missing_ok=True)
        gc.collect()
        gc.freeze()
        try:
            with warehouse.connect(path) as con:
                warehouse.ensure_schema(con)
                documents_seconds, rows_seconds = load_rows(con, rows)
        finally:
            gc.unfreeze()
        best_documents = min(best_documents, documents_seconds)
        best_rows = min(best_rows, rows_seconds)
    return best_documents, best_rows


def downstream_selection() -> Any:
    """The quarantine, every dbt model, the serving publish and all their checks, plus the
    checks on the parsed tables (which stay unmaterialised: their rows were loaded directly)."""
    import dagster as dg

    from npl_assets.assets.transform import npl_dbt_models

    return dg.AssetSelection.assets(
        "listing_quarantine", "serving_database", *npl_dbt_models.keys
    ) | dg.AssetSelection.checks_for_assets("listings", "results")


def measure_size(base: BaseRows, listings: int, root: Path) -> SizePoint:
    import gc

    from harness.benchmarks.runs import check_step_keys, in_process, timed_materialize

    rows = synthesise(base, listings)
    platform = IsolatedPlatform(root).prepare()
    documents_seconds, load_seconds = load_into(platform.warehouse, rows)
    point = SizePoint(
        listings=len(rows.listings),
        results=len(rows.results),
        documents=len(rows.documents),
        copies=rows.copies,
        load_seconds=load_seconds,
        documents_load_seconds=documents_seconds,
    )
    del rows
    with in_process(platform) as (defs, instance):
        gc.collect()
        gc.freeze()  # the bench's own rows stay out of the in-process checks' collections
        try:
            point.steps = timed_materialize(platform, instance, downstream_selection()).steps
        finally:
            gc.unfreeze()
    checks = check_step_keys(defs) | {"listing_quarantine"}
    point.dbt_seconds = point.steps.get("npl_dbt_models", 0.0)
    point.checks_seconds = sum(v for k, v in point.steps.items() if k in checks)
    point.publish_seconds = point.steps.get("serving_database", 0.0)
    return point


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def cpu_parallel_speedup(workers: int, tasks: int = 4, size: int = 1_500_000) -> float:
    """How much faster `workers` processes run a pure-CPU task than one process, right now:
    what the machine can give at best (other work on it takes its share)."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = [size] * (tasks * workers)
    started = time.perf_counter()
    for job in jobs:
        _burn(job)
    serial = time.perf_counter() - started
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_burn, jobs[:workers]))  # start the workers before timing
        started = time.perf_counter()
        list(pool.map(_burn, jobs))
        parallel = time.perf_counter() - started
    return serial / parallel if parallel else 0.0


@dataclass
class ParallelCheck:
    """parse_many (process pool) against a plain loop of parse_stored over the same PDFs."""

    documents: int
    workers: int
    serial_seconds: float
    pool_seconds: float
    cpu_speedup: float  # the same measure for a pure-CPU task, taken just before

    @property
    def speedup(self) -> float:
        return self.serial_seconds / self.pool_seconds if self.pool_seconds else 0.0


def _stored_jobs(platform: IsolatedPlatform) -> list[tuple[str, str]]:
    from npl_assets import warehouse

    with warehouse.connect(platform.warehouse, read_only=True) as con:
        return con.execute(
            "select distinct sha256, doc_type from raw.documents order by sha256"
        ).fetchall()


def _parse_all(jobs: list[tuple[str, str]], raw_dir: Path) -> float:
    from npl_assets.warehouse.loading import parse_many

    started = time.perf_counter()
    outcomes = list(parse_many(jobs, raw_dir))
    seconds = time.perf_counter() - started
    failed = [o for o in outcomes if o.row is None]
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {len(outcomes)} stored PDFs failed to parse, "
            f"e.g. {failed[0].failure}"
        )
    return seconds


def parse_scaling(
    platform: IsolatedPlatform, sizes: Iterable[int] = PARSE_SIZES
) -> tuple[list[ParsePoint], ParallelCheck | None]:
    """parse_many over the main run's stored PDFs (sha256 order mixes both types) at each size,
    and, on the smallest size the pool is used for, the same PDFs parsed in a plain loop."""
    import os

    from npl_assets.warehouse.loading import PARALLEL_THRESHOLD, parse_stored

    jobs = _stored_jobs(platform)
    workers = os.cpu_count() or 1
    points: list[ParsePoint] = []
    parallel: ParallelCheck | None = None
    for size in sizes:
        chosen = jobs[:size]
        if parallel is None and workers > 1 and len(chosen) >= PARALLEL_THRESHOLD:
            # The smallest size the pool serves is also parsed in a plain loop, right before,
            # with a pure-CPU calibration: how parallel the pool is, and could be, right now.
            cpu = cpu_parallel_speedup(workers)
            started = time.perf_counter()
            for sha, doc_type in chosen:
                parse_stored(sha, doc_type, str(platform.raw))
            serial = time.perf_counter() - started
            pool = _parse_all(chosen, platform.raw)
            parallel = ParallelCheck(len(chosen), workers, serial, pool, cpu)
        else:
            pool = _parse_all(chosen, platform.raw)
        points.append(ParsePoint(len(chosen), pool, size))
    return points, parallel

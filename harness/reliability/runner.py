"""`python -m harness.reliability [--quick] [--work DIR] [--only NAME ...]`: run the reliability
scenarios and print one table. Exit code 0 only if there are no duplicates, no lost documents, no
reader errors, no untyped crashes and no other problems.

Full (make reliability): the bundled site from the real 2023 data for the crawl under faults, the
crash chain at every crash point, two concurrent runs and the privacy scan; a fuzz of about a
thousand mutated PDFs. --quick: the sizes of `make test`."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.isolation import IsolatedPlatform
from harness.reliability.child import CRASH_POINTS
from harness.reliability.sites import build_site
from harness.reliability.table import Row, format_table, verdict
from npl_assets import settings

if TYPE_CHECKING:
    from harness.reliability.scenarios.concurrency import ConcurrencyResult

SCENARIOS = ("faults", "concurrency", "crash", "fuzz", "hostile", "privacy")


@dataclass(frozen=True)
class Sizes:
    run_site: int | None  # synthetic listings for the job runs; None: the real 2023 data
    faults_site: int | None
    fault_retries: int | None  # None: the crawler's own RETRY_TIMES
    crash_points: tuple[str, ...]
    crash_pdfs: int
    fuzz_bases: int
    fuzz_mutations: int
    # Sized down, the concurrent runs are the crash chain's last step (one killed in publish)
    # instead of a scenario of their own on a fresh platform.
    race_at_publish: bool


FULL = Sizes(None, None, None, CRASH_POINTS, 150, 40, 20, race_at_publish=False)
QUICK = Sizes(30, 60, 1, ("crawl", "load", "dbt", "publish"), 4, 6, 8, race_at_publish=True)
FAULTS_SEED = 7


def faults_model(seed: int = FAULTS_SEED):
    from npl_assets.site.server import Faults

    # 20 % HTTP 500s, 5 % cut bodies, 3 % answers slower than the 3 s download timeout, and
    # 3 % of the PDFs answer 404 for good.
    return Faults(
        error_rate=0.2,
        truncate_rate=0.05,
        slow_rate=0.03,
        slow_seconds=4.5,
        not_found_rate=0.03,
        seed=seed,
    )


class Runner:
    def __init__(self, work: Path, sizes: Sizes, shared: Path) -> None:
        self.work = work
        self.sizes = sizes
        self.shared = shared
        self.rows: list[Row] = []
        self.reference: dict | None = None
        self.pipeline_dbs: list[Path] = []

    def site(self, synthetic: int | None) -> Path:
        name = "real" if synthetic is None else f"synthetic-{synthetic}"
        return build_site(self.work / "sites" / name, synthetic, self.shared, seed=3)

    def record(self, name: str, step: Callable[[], Row | list[Row]]) -> None:
        started = time.monotonic()
        print(f"-- {name} ...", flush=True)
        try:
            rows = step()
        except Exception:
            rows = Row(name, problems=1, details=[traceback.format_exc()])
        rows = rows if isinstance(rows, list) else [rows]
        seconds = round(time.monotonic() - started, 1)
        for row in rows:
            row.seconds = seconds if row is rows[0] else 0.0
            row.problems = max(row.problems, len(row.details))
            for detail in row.details:
                print(f"   problem: {detail}", flush=True)
            for note in row.notes:
                print(f"   note: {note}", flush=True)
        print(f"   {seconds:.0f} s", flush=True)
        self.rows += rows

    def faults(self) -> Row:
        from harness.reliability.scenarios.faults import run_faults_scenario

        site = self.site(self.sizes.faults_site)
        result = run_faults_scenario(
            self.work / "faults", site, faults_model(), first_retries=self.sizes.fault_retries
        )
        return Row(
            "crawl under faults",
            faults=sum(result.injected.values()),
            stored=result.stored,
            failed=result.failed,
            retried=result.retried,
            duplicates=result.duplicates,
            lost=result.lost,
            details=result.problems,
        )

    def concurrency(self) -> list[Row]:
        from harness.reliability.scenarios.concurrency import run_concurrency_scenario

        if self.sizes.race_at_publish:
            return []  # run by the crash chain
        platform = IsolatedPlatform(self.work / "concurrency", self.site(self.sizes.run_site))
        result = run_concurrency_scenario(platform)
        self.reference = result.fingerprint or None
        self.pipeline_dbs += [platform.warehouse, platform.serving]
        return [concurrency_row("2 runs at once + reader", result)]

    def crash(self) -> list[Row]:
        from harness.reliability.scenarios.crash import run_crash_scenario

        platform = IsolatedPlatform(self.work / "crash", self.site(self.sizes.run_site))
        result = run_crash_scenario(
            platform,
            self.sizes.crash_points,
            self.reference,
            crash_pdfs=self.sizes.crash_pdfs,
            race_at_publish=self.sizes.race_at_publish,
        )
        self.pipeline_dbs += [platform.warehouse, platform.serving]
        notes = []
        if result.leftover_temp_files:
            notes.append(
                f"{len(result.leftover_temp_files)} temp files of killed writes left in the "
                f"content store (never read): {', '.join(result.leftover_temp_files[:3])}"
            )
        rows = [
            Row(
                f"kill -9 at {'/'.join(result.points)}",
                stored=result.documents,
                duplicates=result.duplicates,
                lost=result.lost,
                crashes=result.kills,
                details=result.problems,
                notes=notes,
            )
        ]
        if result.concurrency is not None:
            # Its problems are already the crash row's.
            race = result.concurrency
            row = concurrency_row("2 runs at once, 1 killed + reader", race)
            row.details = [d for d in row.details if d not in race.problems]
            rows.append(row)
        return rows

    def fuzz(self) -> Row:
        from harness.reliability.scenarios.fuzz import base_documents, build_cases, run_fuzz

        samples = self.shared / "domain" / "samples"
        bases = base_documents(
            self.site(self.sizes.faults_site),
            samples if samples.is_dir() else None,
            self.sizes.fuzz_bases,
        )
        cases = build_cases(bases, self.sizes.fuzz_mutations, seed=FAULTS_SEED)
        result = run_fuzz(self.work / "fuzz", cases)
        return Row(
            "fuzzed PDFs -> parse",
            stored=result.parsed,
            failed=result.failed,
            fuzz_cases=result.cases,
            untyped=result.untyped,
            details=result.problems,
        )

    def hostile(self) -> Row:
        from harness.reliability.scenarios.hostile import run_hostile_scenario

        listing, result_pdf = sample_pdfs(self.shared, self.site(self.sizes.run_site))
        result = run_hostile_scenario(self.work / "hostile", listing, result_pdf)
        return Row(
            f"hostile site ({len(result.refusals)} refused, {result.requests} requests)",
            stored=result.documents,
            failed=len(result.refusals),
            details=result.problems,
        )

    def privacy(self) -> Row:
        from harness.reliability.scenarios.privacy import contacts_from_pdfs, run_privacy_scan

        site = self.site(self.sizes.run_site)
        pdfs = sorted((self.shared / "domain" / "samples").glob("*.pdf"))
        pdfs += sorted(site.rglob("*.pdf"))[:5]
        databases = [p for p in self.pipeline_dbs if p.is_file()]
        if not databases:
            return Row(
                "privacy scan", details=["no warehouse to scan: run `concurrency` or `crash` too"]
            )
        result = run_privacy_scan(databases, contacts_from_pdfs(pdfs))
        return Row(
            f"privacy scan ({result.tables} tables, {result.cells} cells)",
            details=result.problems,
        )


def concurrency_row(name: str, result: ConcurrencyResult) -> Row:
    details = list(result.problems)
    if result.reader.files_seen < 2:
        details.append("the reader never read across a replacement of the serving file")
    return Row(
        f"{name} ({result.reader.reads} reads)",
        stored=result.documents,
        duplicates=result.duplicates,
        lost=result.lost,
        reader_errors=len(result.reader.errors),
        details=details,
    )


def sample_pdfs(shared: Path, site: Path) -> tuple[bytes, bytes]:
    samples = shared / "domain" / "samples"
    listing, result = (
        samples / "listing_huaxia_cc_2023_02.pdf",
        samples / "result_hebei_2023_01.pdf",
    )
    if listing.is_file() and result.is_file():
        return listing.read_bytes(), result.read_bytes()
    pdfs = {p.parent.parent.name: p for p in sorted(site.rglob("*.pdf"))}
    return pdfs["bldkzr_zrgg"].read_bytes(), pdfs["bldkzr_zrjggg"].read_bytes()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.reliability", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the sizes of `make test`")
    parser.add_argument("--work", type=Path, help="work folder (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, help="run only these")
    args = parser.parse_args(argv)
    shared = settings.shared_dir()
    sizes = QUICK if args.quick else FULL
    if not (shared / "data" / "yindeng_2023_listings.csv").is_file():
        print(f"no 2023 dataset at {shared}: synthetic sites only", file=sys.stderr)
        sizes = replace(sizes, run_site=sizes.run_site or 200, faults_site=sizes.faults_site or 400)
    work = args.work or Path(tempfile.mkdtemp(prefix="npl-reliability-"))
    work.mkdir(parents=True, exist_ok=True)
    runner = Runner(work, sizes, shared)
    chosen = args.only or list(SCENARIOS)
    started = time.monotonic()
    for name in SCENARIOS:
        if name in chosen:
            runner.record(name, getattr(runner, name))
    ok, text = verdict(runner.rows)
    print()
    print(format_table(runner.rows))
    print(f"\n{text} ({time.monotonic() - started:.0f} s)")
    if ok and not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"work folder: {work}")
    return 0 if ok else 1

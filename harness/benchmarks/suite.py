"""`make bench` (`python -m harness.benchmarks`): every measurement in one go, one table,
results.json.

Phases (each timed, its peak memory sampled, its output kept in data/bench/logs/<phase>.log):
 0. setup       a fresh clone of HEAD, empty uv cache, no venv: make install, make run (timed)
 1. site        the synthetic site (20,000 listings by default), cached by size and seed
 2. pipeline    full in-process run of every asset and check, then the no-op run
 3. extraction  parse versus bare pypdfium2 extraction, one process, the same stored PDFs
 4. load        the parsed rows into a fresh warehouse with the pipeline's store functions
 5. parse-scale parse_many at 1k and 10k documents
 6. scale       load, dbt, checks and publish at 1k, 10k and 100k listings (synthesised rows)
 7. full-run    `dagster job execute` of the bundled 2023 site on an empty warehouse
 8. freshness   dagster-daemon + sensor: a listing put on the index, until it is served

The last `make test`'s wall time is read from data/bench/make_test.json (the test session
writes it), not measured here.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from harness.benchmarks import fresh_setup, make_test_record, sites, table
from harness.benchmarks.daemon import (
    FRESHNESS_TARGET_SECONDS,
    NEW_ANNOUNCEMENTS_SENSOR,
    SENSOR_INTERVAL,
)
from harness.benchmarks.memory import TreeMemory
from harness.benchmarks.scaling import (
    LINEAR_TOLERANCE,
    LISTING_SIZES,
    PARSE_SIZES,
    growth_exponent,
)
from harness.benchmarks.table import Row, count, megabytes, rate, seconds, verdict
from harness.isolation import IsolatedPlatform

NOOP_TARGET_SECONDS = 15.0
FULL_RUN_TARGET_SECONDS = 60.0
# Steps a new listing costs little in: the crawl fetches one PDF, the parse reads it.
CRAWL_AND_PARSE_STEPS = frozenset({"raw_documents", "listings", "results"})
DBT_100K_TARGET_SECONDS = 30.0
MEMORY_TARGET_BYTES = 2_000_000_000  # decimal, as the table prints it
PARSE_RATIO_TARGET = 0.8
# "In parallel across cores": parse_many's speedup over a plain loop at least this share of
# what a pure-CPU task gets from the same number of processes at the same time. Below
# MIN_CPU_SPEEDUP the machine has no core to spare and parallelism cannot be judged.
PARALLEL_SHARE_TARGET = 0.8
MIN_CPU_SPEEDUP = 1.3


@dataclass
class Options:
    listings: int = 20_000
    seed: int = 0
    workers: int | None = None  # site build processes (default: one per core)
    scale_sizes: tuple[int, ...] = LISTING_SIZES
    parse_sizes: tuple[int, ...] = PARSE_SIZES
    setup: bool = True  # fresh clone, empty uv cache: make install, make run
    full_run: bool = True
    freshness: bool = True
    sensor_interval: int = SENSOR_INTERVAL
    rebuild_site: bool = False
    keep_work: bool = False
    results_path: Path | None = None


@dataclass
class Suite:
    options: Options
    out: TextIO
    bench: Path = field(default_factory=sites.bench_dir)
    memory: TreeMemory = field(default_factory=TreeMemory)
    phases: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # stages that broke

    @property
    def work(self) -> Path:
        return self.bench / "work"

    @property
    def logs(self) -> Path:
        return self.bench / "logs"

    def say(self, message: str) -> None:
        print(message, file=self.out, flush=True)

    @contextmanager
    def phase(self, name: str) -> Iterator[Path]:
        """Time the phase, sample its memory, and send everything it prints (Dagster, dbt and
        subprocess output included) to its log file rather than the terminal."""
        log = self.logs / f"{name}.log"
        started = time.perf_counter()
        self.say(f"- {name} ...")
        try:
            with self.memory.phase(name), _captured(log):
                yield log
        except Exception:
            self.say(f"  {name} FAILED; its output is in {log}")
            raise
        finally:
            self.phases[name] = round(time.perf_counter() - started, 2)
        peak = self.memory.phases[name]
        self.say(f"  {name}: {seconds(self.phases[name])}, peak RSS {megabytes(peak.bytes)}")


@contextmanager
def _captured(log: Path) -> Iterator[None]:
    """Point file descriptors 1 and 2 at `log` (so child processes write there too)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log.open("ab") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def run_all(options: Options, out: TextIO | None = None) -> dict[str, Any]:
    """Run every phase and print the table; returns what results.json holds."""
    from harness.benchmarks.runs import check_manifest

    check_manifest()
    # Progress and the table go to the terminal even while phases capture fds 1 and 2.
    terminal = out or os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    suite = Suite(options, terminal)
    shutil.rmtree(suite.work, ignore_errors=True)
    shutil.rmtree(suite.logs, ignore_errors=True)
    suite.work.mkdir(parents=True)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    suite.memory.start()
    try:
        _run_phases(suite)
    except Exception as exc:  # the table still shows what was measured before it
        suite.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        suite.memory.stop()
        if not options.keep_work:
            shutil.rmtree(suite.work, ignore_errors=True)
    total = time.perf_counter() - started
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    rows = build_rows(suite)
    notes = [
        f"bench wall time {seconds(total)}; phases: "
        + ", ".join(f"{k} {seconds(v)}" for k, v in suite.phases.items()),
        f"{os.cpu_count()} cores; load average {_load(load_before)} at start, "
        f"{_load(load_after)} at the end: other work on the machine makes timings noisy.",
        *_cpu_notes(suite.figures),
        f"logs: {suite.logs}",
        *_setup_notes(suite.figures),
        *_freshness_notes(suite.figures),
    ]
    notes += [f"FAILED: {error}" for error in suite.errors]
    rendered = table.render(rows, "make bench", notes)
    suite.say("")
    suite.say(rendered)
    results = {
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()},
        "machine": {"cores": os.cpu_count(), "load_before": load_before, "load_after": load_after},
        "seconds": round(total, 2),
        "phases": suite.phases,
        "memory": {name: asdict(peak) for name, peak in suite.memory.phases.items()},
        "targets": table.targets_json(rows),
        "figures": suite.figures,
        "table": rendered,
        "errors": suite.errors,
    }
    path = options.results_path or suite.bench / "results.json"
    table.write_results(path, results)
    suite.say(f"results: {path}")
    return results


def _load(values: tuple[float, float, float] | None) -> str:
    return "/".join(f"{v:.1f}" for v in values) if values else "?"


def _run_phases(suite: Suite) -> None:
    """The main site's stages, then the bundled site's; a stage that breaks is reported in the
    notes and the stages that do not depend on it still run."""
    options = suite.options
    _read_make_test(suite)
    if options.setup:
        _setup_stage(suite)
    with suite.phase("site"):
        site = sites.synthetic_site(
            options.listings, options.seed, options.workers, options.rebuild_site
        )
    suite.figures["site"] = asdict(site)
    suite.say(
        f"  site: {count(site.listings)} listings, {count(site.results)} results "
        + (f"(built in {seconds(site.build_seconds)})" if site.built_now else "(cached)")
    )
    try:
        _main_site_stages(suite, site)
    except Exception as exc:
        suite.errors.append(f"{type(exc).__name__}: {exc}")
        steps = getattr(exc, "steps", None)
        if steps:  # how far the failed run got, and how long each step took
            suite.figures["failed_run_steps"] = steps
            suite.errors.append(
                "steps before the failure: "
                + ", ".join(
                    f"{k} {seconds(v)}" for k, v in sorted(steps.items(), key=lambda x: -x[1])
                )
            )
    if options.full_run:
        _bundled_site_stages(suite)


def _read_make_test(suite: Suite) -> None:
    path = suite.bench / make_test_record.RECORD_NAME
    try:
        record = make_test_record.read_make_test(path)
    except make_test_record.RecordError as exc:
        suite.figures["make_test"] = {"error": str(exc), "path": str(path)}
        return
    suite.figures["make_test"] = asdict(record) if record else None


def _setup_stage(suite: Suite) -> None:
    """A new user's set-up, first, while the machine has no bench work of its own going on."""
    try:
        with suite.phase("setup") as log:
            figures = fresh_setup.measure_setup(
                suite.logs / "setup-make.log", keep=suite.options.keep_work
            )
            print(f"setup: {figures}", flush=True)  # into the phase's log
    except Exception as exc:
        suite.errors.append(f"setup: {type(exc).__name__}: {exc}")
        return
    suite.figures["setup"] = asdict(figures) | {"total": figures.total, "ok": figures.ok}
    if not figures.ok:
        suite.errors.append(
            f"setup: make {figures.failed_step} exited {figures.returncode} in the fresh clone, "
            f"see {figures.log} (phase log {log})"
        )
        return
    suite.say(
        f"  fresh clone -> make run {seconds(figures.total)}: "
        + ", ".join(f"{step} {seconds(figures.seconds[step])}" for step in fresh_setup.STEPS)
        + f" (besides: clone {seconds(figures.clone_seconds)}, removing the clone, its venv "
        f"and uv cache {seconds(figures.cleanup_seconds)})"
    )


def _main_site_stages(suite: Suite, site: sites.BuiltSite) -> None:
    from harness.benchmarks import pipeline, scaling
    from harness.benchmarks.runs import dbt_reported_seconds

    options = suite.options
    main = IsolatedPlatform(suite.work / "pipeline")
    with suite.phase("pipeline") as log:
        figures = pipeline.run_pipeline(site.root, site.listings, site.results, main)
    suite.figures["pipeline"] = asdict(figures) | {"dbt_reported": dbt_reported_seconds(log)}
    suite.say(
        f"  full run {seconds(figures.full.seconds)}, no-op run {seconds(figures.noop.seconds)}"
    )
    pipeline.check_crawl_complete(figures, site.pdfs)

    with suite.phase("extraction"):
        extraction = pipeline.parse_versus_extraction(pipeline.sample_stored_pdfs(main))
    suite.figures["extraction"] = extraction

    with suite.phase("load"):
        base = scaling.read_base_rows(main.warehouse)
        load = _load_all(base, suite.work / "load")
    suite.figures["load"] = load

    with suite.phase("parse-scale"):
        parse_points, parallel = scaling.parse_scaling(main, options.parse_sizes)
    suite.figures["parse_scaling"] = [
        asdict(p) | {"docs_per_s": p.docs_per_s} for p in parse_points
    ]
    if parallel is not None:
        suite.figures["parse_parallel"] = asdict(parallel) | {"speedup": parallel.speedup}
    if not options.keep_work:
        shutil.rmtree(main.root, ignore_errors=True)  # the stored PDFs are no longer needed

    points = []
    for size in options.scale_sizes:
        try:
            with suite.phase(f"scale-{size}") as log:
                point = scaling.measure_size(base, size, suite.work / f"scale-{size}")
        except Exception as exc:
            suite.errors.append(f"scale-{size}: {type(exc).__name__}: {exc}")
            continue
        finally:
            shutil.rmtree(suite.work / f"scale-{size}", ignore_errors=True)
        point.dbt_reported_seconds = sum(dbt_reported_seconds(log))
        points.append(point)
        suite.figures["scaling"] = [
            asdict(p) | {"load_rows_per_s": p.load_rows_per_s} for p in points
        ]
        suite.say(
            f"  {count(size)} listings: load {seconds(point.load_seconds)}, dbt "
            f"{seconds(point.dbt_seconds)}, checks {seconds(point.checks_seconds)}"
        )


def _bundled_site_stages(suite: Suite) -> None:
    from harness.benchmarks import daemon

    options = suite.options
    try:
        with suite.phase("full-run"):
            source = sites.bundled_site(options.rebuild_site)
            copy = sites.linked_copy(source.root, suite.work / "bundled-site")
            held = sites.hold_back_newest_listing(copy)
            bundled = IsolatedPlatform(suite.work / "bundled", copy)
            full = daemon.full_run(bundled, suite.logs / "full-run-dagster.log")
    except Exception as exc:
        suite.errors.append(f"full-run: {type(exc).__name__}: {exc}")
        return
    suite.figures["full_run"] = asdict(full) | {
        "site_documents": source.pdfs,
        "held_back_for_freshness": held.title,
    }
    if full.returncode != 0:
        suite.errors.append(
            f"full-run: dagster job execute exited {full.returncode}, see {full.log}"
        )
        return
    if not options.freshness:
        return
    try:
        with suite.phase("freshness"):
            fresh = daemon.measure_freshness(
                bundled, held, suite.logs, interval=options.sensor_interval
            )
    except Exception as exc:
        suite.errors.append(f"freshness: {type(exc).__name__}: {exc}")
        return
    suite.figures["freshness"] = asdict(fresh)
    suite.say(
        f"  new listing served after {seconds(fresh.seconds)}"
        if fresh.seconds is not None
        else f"  new listing not served: {fresh.error}"
    )


def _load_all(base: Any, root: Path) -> dict[str, float]:
    """All parsed rows of the main run into a fresh warehouse, as the parse assets store them."""
    from harness.benchmarks.scaling import load_into, synthesise

    rows = synthesise(base, len(base.listings))
    platform = IsolatedPlatform(root).prepare()
    documents_seconds, rows_seconds = load_into(platform.warehouse, rows)
    shutil.rmtree(root, ignore_errors=True)
    parsed = len(rows.listings) + len(rows.results)
    return {
        "parsed_rows": parsed,
        "seconds": rows_seconds,
        "rows_per_s": parsed / rows_seconds if rows_seconds else 0.0,
        "documents": len(rows.documents),
        "documents_seconds": documents_seconds,
    }


# --- the table ----------------------------------------------------------------------------------


def _memory_rows(suite: Suite) -> list[Row]:
    """Peak memory of each way the pipeline runs: in the bench process (the main run), as
    `dagster job execute`, and under the daemon (the bench process itself left out there,
    since it only serves the site and polls)."""
    phases = suite.memory.phases
    measured: list[tuple[str, int, int, int]] = []  # (label, rss, pss, processes)
    if "pipeline" in phases:
        peak = phases["pipeline"]
        measured.append(("in-process main run + no-op run", peak.rss, peak.pss, peak.processes))
    for name, label in (
        ("full-run", "dagster job execute, bundled site"),
        ("freshness", "dagster-daemon, code server and its runs"),
    ):
        if name in phases:
            peak = phases[name]
            measured.append((label, peak.children_rss, peak.children_pss, peak.children_processes))
    rows = [
        Row(
            "memory",
            f"peak memory, {label}",
            f"RSS {megabytes(rss)}, PSS {megabytes(pss)} ({processes} processes)",
        )
        for label, rss, pss, processes in measured
    ]
    if measured:
        top = max(rss for _, rss, _, _ in measured)
        rows.append(
            Row(
                "memory",
                "peak memory of the pipeline, any way it runs",
                f"{megabytes(top)} RSS summed over the process tree",
                "< 2 GB",
                verdict(top < MEMORY_TARGET_BYTES),
                "peak_memory_bytes",
                top,
            )
        )
    if phases:
        whole = max(phases.values(), key=lambda p: p.rss)
        rows.append(
            Row(
                "memory",
                "peak memory, whole bench",
                f"RSS {megabytes(whole.rss)}, PSS {megabytes(whole.pss)} (with the bench's own "
                f"synthesised rows); largest process {megabytes(whole.largest_process_bytes)}",
            )
        )
    return rows


def _growth(sizes: list[int], times: list[float]) -> float | None:
    exponents = [
        growth_exponent(sizes[i], times[i], sizes[i + 1], times[i + 1])
        for i in range(len(sizes) - 1)
    ]
    known = [e for e in exponents if e is not None]
    return max(known) if known else None


def _curve(sizes: list[int], times: list[float], unit: str = "listings") -> str:
    pairs = " · ".join(f"{_short(n)}: {seconds(t)}" for n, t in zip(sizes, times, strict=True))
    return f"{pairs} ({unit})"


def _short(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else count(n)


def _scaling_row(measure: str, key: str, sizes: list[int], times: list[float], unit: str) -> Row:
    exponent = _growth(sizes, times)
    figure = _curve(sizes, times, unit)
    if exponent is not None:
        figure += f"; time ~ n^{exponent:.2f} at worst"
    return Row(
        "scaling",
        measure,
        figure,
        f"linear or better (n^b, b <= {LINEAR_TOLERANCE})",
        verdict(None if exponent is None else exponent <= LINEAR_TOLERANCE),
        key,
        exponent,
    )


def build_rows(suite: Suite) -> list[Row]:
    f = suite.figures
    rows: list[Row] = []
    site = f.get("site")
    if site:
        rows.append(
            Row(
                "site",
                "synthetic site",
                f"{count(site['listings'])} listings + {count(site['results'])} results = "
                f"{count(site['pdfs'])} PDFs, "
                + (f"built in {seconds(site['build_seconds'])}" if site["built_now"] else "cached"),
            )
        )
    rows += _setup_rows(f)
    rows += _pipeline_rows(suite)
    rows += _scaling_rows(f)
    rows += _service_rows(f)
    rows += _memory_rows(suite)
    return rows


def _setup_rows(f: dict[str, Any]) -> list[Row]:
    """A new user's set-up and the developer's test loop, beside the figures issue 17 gave."""
    rows: list[Row] = []
    setup = f.get("setup")
    if setup:
        steps = setup["seconds"]
        split = ", ".join(
            f"{step} {seconds(steps[step])}" for step in fresh_setup.STEPS if step in steps
        )
        if setup["ok"]:
            pipeline = setup.get("pipeline_seconds")
            figure = f"{seconds(setup['total'])} ({split}"
            if pipeline is not None:
                figure += f"; of the run, the pipeline {seconds(pipeline)}"
            figure += ")"
        else:
            figure = f"FAILED at make {setup['failed_step']} (exit {setup['returncode']}): {split}"
        rows.append(
            Row(
                "set-up",
                "fresh clone -> make run (install included, empty uv cache)",
                f"{figure}; before: {seconds(fresh_setup.BEFORE_SECONDS)}",
                f"<= {fresh_setup.TARGET_SECONDS:.0f} s",
                verdict(setup["ok"] and setup["total"] <= fresh_setup.TARGET_SECONDS),
                "fresh_setup_seconds",
                setup["total"] if setup["ok"] else None,
            )
        )
    if "make_test" in f:
        rows.append(_make_test_row(f["make_test"]))
    return rows


def _make_test_row(record: dict[str, Any] | None) -> Row:
    target = f"< {make_test_record.TARGET_SECONDS:.0f} s"
    before = f"before: {make_test_record.BEFORE}"
    if record is None:
        return Row(
            "set-up",
            "make test wall time",
            f"not recorded: run make test; {before}",
            target,
            verdict(None),
            "make_test_seconds",
        )
    if "error" in record:
        return Row(
            "set-up",
            "make test wall time",
            f"unreadable record: {record['error']}; {before}",
            target,
            verdict(None),
            "make_test_seconds",
        )
    failed = record["failed"]
    figure = (
        f"{seconds(record['seconds'])}: {count(record['passed'])} passed, {count(failed)} failed, "
        f"{record['workers']} workers"
    )
    if failed:  # a failing session's time says nothing about the suite's
        figure += " (a failing run's time is not judged)"
    return Row(
        "set-up",
        f"make test wall time (last run, {record['finished_at']})",
        f"{figure}; {before}",
        target,
        verdict(None if failed else record["seconds"] < make_test_record.TARGET_SECONDS),
        "make_test_seconds",
        record["seconds"],
    )


def _pipeline_rows(suite: Suite) -> list[Row]:
    f = suite.figures
    p = f.get("pipeline")
    if not p:
        return []
    full, noop = p["full"], p["noop"]
    steps = full["steps"]
    crawl_s = steps.get("raw_documents", 0.0)
    crawl_docs = int(full["metadata"].get("raw_documents", {}).get("new_documents", 0))
    rows = [
        Row(
            "crawl",
            "crawl throughput (loopback, politeness off)",
            f"{count(crawl_docs)} documents, {p['megabytes']:,.0f} MB in {seconds(crawl_s)}: "
            f"{rate(crawl_docs / crawl_s if crawl_s else 0, 'docs/s')}, "
            f"{p['megabytes'] / crawl_s if crawl_s else 0:.1f} MB/s "
            f"({count(p['crawl_requests'])} requests"
            + (
                f"; crawler page cap raised to {p['crawl_page_cap']:,} for this site"
                if p.get("crawl_page_cap")
                else ""
            )
            + ")",
        )
    ]
    parse_s = sum(steps.get(s, 0.0) for s in ("listings", "results"))
    docs = p["parsed_docs"]
    per_core = docs / p["parse_core_seconds"] if p["parse_core_seconds"] else 0.0
    wall_rate = docs / parse_s if parse_s else 0.0
    ex = f.get("extraction")
    extract = ex["extract_docs_per_s"] if ex else 0.0
    rows.append(
        Row(
            "parse",
            "parse in the pipeline (listings + results steps, storing included)",
            f"{count(docs)} PDFs in {seconds(parse_s)}: {rate(wall_rate, 'docs/s')}; "
            f"{rate(per_core, 'docs/s per core-second')}"
            + (f" = {per_core / extract:.2f}x bare extraction" if extract else ""),
        )
    )
    if ex:
        ratio = ex["parse_docs_per_s"] / extract if extract else 0.0
        rows.append(
            Row(
                "parse",
                "bare pypdfium2 text extraction, one process",
                f"{rate(extract, 'docs/s per core')} ({ex['files']} of the stored PDFs)",
            )
        )
        rows.append(
            Row(
                "parse",
                "parser, one process, same PDFs (ratio to extraction)",
                f"{rate(ex['parse_docs_per_s'], 'docs/s per core')} = {ratio:.2f}x",
                f">= {PARSE_RATIO_TARGET}x extraction",
                verdict(ratio >= PARSE_RATIO_TARGET),
                "parse_to_extraction_ratio",
                round(ratio, 3),
            )
        )
    par = f.get("parse_parallel")
    if par:
        busy = par["cpu_speedup"] < MIN_CPU_SPEEDUP
        rows.append(
            Row(
                "parse",
                f"parse in parallel (parse_many vs a loop, {count(par['documents'])} PDFs)",
                f"{par['speedup']:.2f}x on {par['workers']} workers; a pure-CPU task got "
                f"{par['cpu_speedup']:.2f}x at the same time",
                f">= {PARALLEL_SHARE_TARGET}x the pure-CPU speedup",
                verdict(
                    None if busy else par["speedup"] >= PARALLEL_SHARE_TARGET * par["cpu_speedup"]
                ),
                "parse_parallel_speedup",
                round(par["speedup"], 3),
            )
        )
    load = f.get("load")
    if load:
        rows.append(
            Row(
                "load",
                "load parsed rows (store_outcomes)",
                f"{count(load['parsed_rows'])} rows in {seconds(load['seconds'])}: "
                f"{rate(load['rows_per_s'], 'rows/s')} (raw.documents: "
                f"{count(load['documents'])} rows in {seconds(load['documents_seconds'])})",
            )
        )
    checks = sum(steps.get(s, 0.0) for s in p["check_steps"])
    report_s = sum(steps.get(s, 0.0) for s in ("market_chart", "market_report"))
    rows += [
        Row("dbt", "dbt build (seeds, models, data tests)", _dbt_figure(steps, p)),
        Row(
            "checks",
            "checks (GX suites, quarantine, reconciliation)",
            f"{seconds(checks)} over {len([s for s in p['check_steps'] if s in steps])} steps",
        ),
        Row("publish", "publish the serving file", seconds(steps.get("serving_database"))),
        Row("publish", "chart and quarterly report", seconds(report_s)),
        Row("pipeline", "full run, all steps", seconds(full["seconds"])),
    ]
    requests = p["noop_requests"]
    index = requests.get("index", 0)
    rows.append(
        Row(
            "no-op",
            "no-op re-run (nothing new)",
            seconds(noop["seconds"]),
            f"<= {NOOP_TARGET_SECONDS:.0f} s",
            verdict(noop["seconds"] <= NOOP_TARGET_SECONDS),
            "noop_seconds",
            round(noop["seconds"], 2),
        )
    )
    others = sum(v for k, v in requests.items() if k not in ("index", "robots"))
    rows.append(
        Row(
            "no-op",
            "no-op re-run HTTP requests",
            f"{sum(requests.values())}: {index} index pages, {requests.get('robots', 0)} "
            f"robots.txt, {others} detail/PDF",
            "1 index page per index (2)",
            verdict(index == 2 and others == 0),
            "noop_index_requests",
            index,
        )
    )
    return rows


def _scaling_rows(f: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    parse = f.get("parse_scaling") or []
    if parse:
        sizes = [p["documents"] for p in parse]
        rows.append(
            _scaling_row(
                "parse (parse_many)",
                "parse_growth_exponent",
                sizes,
                [p["seconds"] for p in parse],
                "documents",
            )
        )
    points = f.get("scaling") or []
    if not points:
        return rows
    sizes = [p["listings"] for p in points]
    for measure, key, column in (
        ("load (store_outcomes)", "load_growth_exponent", "load_seconds"),
        ("dbt build (Dagster step)", "dbt_growth_exponent", "dbt_seconds"),
        ("dbt's own run (its log)", "dbt_own_growth_exponent", "dbt_reported_seconds"),
        ("checks", "checks_growth_exponent", "checks_seconds"),
        ("publish", "publish_growth_exponent", "publish_seconds"),
    ):
        rows.append(_scaling_row(measure, key, sizes, [p[column] for p in points], "listings"))
    biggest = max(points, key=lambda p: p["listings"])
    at_100k = biggest["listings"] >= 100_000
    rows.append(
        Row(
            "scaling",
            f"{count(biggest['listings'])} listings through dbt",
            f"{seconds(biggest['dbt_seconds'])} ({count(biggest['results'])} results; "
            f"{biggest['copies']} shifted copies of the parsed rows)",
            f"<= {DBT_100K_TARGET_SECONDS:.0f} s at 100k",
            verdict(biggest["dbt_seconds"] <= DBT_100K_TARGET_SECONDS if at_100k else None),
            "dbt_100k_seconds",
            round(biggest["dbt_seconds"], 2),
        )
    )
    return rows


def _service_rows(f: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    full = f.get("full_run")
    if full:
        ok = full["returncode"] == 0
        rows.append(
            Row(
                "bundled site",
                "full run of the bundled 2023 site (dagster job execute)",
                f"{seconds(full['seconds'])} for {count(full['documents'])} documents"
                + ("" if ok else f" (FAILED, exit {full['returncode']})"),
                f"<= {FULL_RUN_TARGET_SECONDS:.0f} s",
                verdict(ok and full["seconds"] <= FULL_RUN_TARGET_SECONDS),
                "bundled_full_run_seconds",
                full["seconds"],
            )
        )
    fresh = f.get("freshness")
    if fresh:
        # The measure: from the sensor tick that saw the listing to the serving file
        # (the wait for that tick is the interval's business, up to 10 s here).
        after_seen = seconds_after_seen(fresh)
        if fresh["seconds"] is None:
            figure = f"not served: {fresh['error']}"
        elif after_seen is None:
            figure = f"{seconds(fresh['seconds'])} after it went on the index (no tick found)"
        else:
            figure = (
                f"{seconds(after_seen)} after the sensor saw it, {seconds(fresh['seconds'])} "
                f"after it went on the index (sensor every {fresh['sensor_interval']} s)"
            )
        rows.append(
            Row(
                "freshness",
                "new listing seen by the sensor -> serving file (daemon)",
                f"{figure}; before: ~90 s (30 s interval, two runs)",
                f"<= {FRESHNESS_TARGET_SECONDS:.0f} s",
                verdict(after_seen is not None and after_seen <= FRESHNESS_TARGET_SECONDS),
                "freshness_seconds",
                after_seen,
            )
        )
    return rows


def seconds_after_seen(fresh: dict[str, Any]) -> float | None:
    """Seconds from the start of the first new-announcement tick that requested a run (the tick
    that saw the listing) to the serving file holding the listing (None when not served or no
    such tick). Automation's ticks do not count: they see no listing."""
    if fresh.get("seconds") is None:
        return None
    ticks = [
        t
        for t in fresh.get("ticks") or []
        if t.get("sensor") == NEW_ANNOUNCEMENTS_SENSOR and t.get("runs")
    ]
    if not ticks:
        return None
    return round(fresh["seconds"] - ticks[0]["after_s"], 1)


def _steps_text(steps: dict[str, float], at_least: float = 0.0) -> str:
    """Steps and their seconds, longest first, leaving out those under `at_least`."""
    longest_first = sorted(steps.items(), key=lambda item: -item[1])
    return ", ".join(f"{key} {seconds(value)}" for key, value in longest_first if value >= at_least)


def _setup_notes(f: dict[str, Any]) -> list[str]:
    setup = f.get("setup")
    if not setup:
        return []
    lines = [
        f"fresh clone of {setup['commit'][:10]}: clone {seconds(setup['clone_seconds'])}, "
        f"removing it (venv, uv cache) {seconds(setup['cleanup_seconds'])}, both outside the "
        "figure; make log " + setup["log"]
    ]
    run, pipeline = setup["seconds"].get("run"), setup.get("pipeline_seconds")
    if run is not None and pipeline is not None:
        lines.append(
            f"  make run {seconds(run)} = site build, dbt parse and instance (at once) and the "
            f"closing queries {seconds(run - pipeline)} + the pipeline {seconds(pipeline)}"
        )
    steps = setup.get("run_steps") or {}
    if steps:
        lines.append("  the pipeline's steps: " + _steps_text(steps, at_least=0.5))
    return lines


def _freshness_notes(f: dict[str, Any]) -> list[str]:
    fresh = f.get("freshness")
    if not fresh or not fresh.get("runs"):
        return []
    lines = [
        "freshness runs (seconds after the listing went on the index; it goes on once the "
        "sensors have ticked, usually just after a tick: the wait for the next one is near the "
        "worst case):"
    ]
    for tick in fresh.get("ticks") or []:
        lines.append(
            f"  {tick['sensor']} tick at {tick['after_s']} (took {tick['tick_seconds']} s) "
            f"requested {', '.join(tick['runs'])}"
        )
    for run in fresh["runs"]:
        moments = [
            (label, run.get(key))
            for label, key in (
                ("created", "created_after_s"),
                ("enqueued", "enqueued_after_s"),
                ("dequeued", "dequeued_after_s"),
                ("launched", "launched_after_s"),
                ("started", "started_after_s"),
                ("first step", "first_step_after_s"),
                ("serving file published", "serving_published_after_s"),
                ("ended", "ended_after_s"),
            )
        ]
        lines.append(
            f"  {run['run_id']} {run['trigger'] or run['job']} ({run['status']}): "
            + ", ".join(f"{label} {value}" for label, value in moments if value is not None)
        )
        steps = run.get("steps") or {}
        if steps:
            lines.append("    steps: " + _steps_text(steps))
    # At the bench site's size the downstream run costs what the main full run's steps below
    # the crawl and the parse cost (a new listing is one document to parse; dbt, the checks,
    # publish and the report redo the whole warehouse).
    downstream = [r for r in fresh["runs"] if r["trigger"] == "downstream_automation_sensor"]
    pipeline = f.get("pipeline")
    if fresh["seconds"] is not None and downstream and pipeline and downstream[-1]["ended_after_s"]:
        run = downstream[-1]
        bundled = run["ended_after_s"] - run["started_after_s"]
        steps = pipeline["full"]["steps"]
        at_scale = sum(v for k, v in steps.items() if k not in CRAWL_AND_PARSE_STEPS)
        estimate = fresh["seconds"] - bundled + at_scale
        lines.append(
            f"  the downstream run took {seconds(bundled)} here; at the synthetic site's size "
            f"({count(pipeline['listings'])} listings) its steps after the parse take about "
            f"{seconds(at_scale)} (the full run's), so a new listing would be served in about "
            f"{seconds(estimate)}"
        )
    return lines


def _dbt_figure(steps: dict[str, float], p: dict[str, Any]) -> str:
    figure = seconds(steps.get("npl_dbt_models"))
    reported = p.get("dbt_reported") or []
    if reported:
        figure += (
            f" (dbt's own run {seconds(reported[0])}; the rest is dbt start-up, project "
            "parsing and Dagster's event handling)"
        )
    return figure


def _cpu_notes(f: dict[str, Any]) -> list[str]:
    par = f.get("parse_parallel")
    if not par:
        return []
    return [
        f"a pure-CPU task ran {par['cpu_speedup']:.2f}x faster on {par['workers']} processes "
        f"than on one during parse-scale ({par['workers']:.1f}x on an idle machine): per-core "
        "and parallel figures are only as good as the cores other work left free."
    ]

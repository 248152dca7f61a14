"""open_listings and `npl open` on the bundled site, checked against the shared dataset's own
竞价报名截止时间 column (read here, independently of the parser and the pipeline)."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from npl_assets.dbt_project import DBT_PROJECT_DIR

pytestmark = pytest.mark.slow

# inside 2023: mid-year, in the third quarter, and in December's rush
DATES = ("2023-06-15", "2023-09-17", "2023-12-15")


def project_key(name: str) -> str:
    """The dataset's project name without spaces and relisting marker (its own normalisation)."""
    name = re.sub(r"\s+", "", name).replace("(", "（").replace(")", "）")
    return re.sub(r"（(第[^）]*次)?重新(挂牌|公告)）", "", name)


def expected_open(shared_dir: Path, as_of: datetime) -> tuple[set[str], set[str]]:
    """Projects whose latest announcement's deadline is after as_of (a relisting comes after
    the listing it replaces, so the project's latest deadline is its largest one), and every
    project of the dataset."""
    deadlines: dict[str, list[datetime]] = defaultdict(list)
    path = shared_dir / "data" / "yindeng_2023_listings.csv"
    with path.open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            deadline = datetime.strptime(row["竞价报名截止时间"], "%Y-%m-%d %H:%M")
            deadlines[project_key(row["项目名称"])].append(deadline)
    return {key for key, found in deadlines.items() if max(found) > as_of}, set(deadlines)


def unparsed_projects(db: Path, shared_dir: Path) -> set[str]:
    """Projects whose latest announcement in the dataset is a PDF the pipeline recorded as a
    parse failure (raw.parse_failures: on a machine without a CJK font, PDFium drops a
    character of some wrapped titles). The pipeline cannot know their latest deadline; they are
    compared only once the parser reads them."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        failed_titles = [
            t
            for (t,) in con.execute(
                """select d.title from raw.parse_failures f join raw.documents d using (sha256)
                   where f.doc_type = 'listing'"""
            ).fetchall()
        ]
    finally:
        con.close()
    failed = {re.sub(r"\s+", "", t).removesuffix("不良贷款转让公告") for t in failed_titles}
    latest: dict[str, tuple[datetime, str]] = {}
    path = shared_dir / "data" / "yindeng_2023_listings.csv"
    with path.open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            deadline = datetime.strptime(row["竞价报名截止时间"], "%Y-%m-%d %H:%M")
            key = project_key(row["项目名称"])
            name = re.sub(r"\s+", "", row["项目名称"])
            if key not in latest or deadline > latest[key][0]:
                latest[key] = (deadline, name)
    return {key for key, (_, name) in latest.items() if name in failed}


@pytest.fixture(scope="session")
def warehouse_copy(full_pipeline: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pipeline's warehouse, copied so that rebuilding open_listings touches nothing shared."""
    copy = tmp_path_factory.mktemp("open_listings") / "npl.duckdb"
    shutil.copy(full_pipeline["db"], copy)
    return copy


BUILT: dict[str, list[dict]] = {}


def open_listings_at(db: Path, as_of: str) -> list[dict]:
    """open_listings built at `as_of` (once per date: a dbt build costs some 15 s)."""
    if as_of not in BUILT:
        BUILT[as_of] = build_open_listings(db, as_of)
    return BUILT[as_of]


def build_open_listings(db: Path, as_of: str) -> list[dict]:
    tmp = db.parent / f"dbt-{as_of}"
    dbt = Path(sys.executable).with_name("dbt")
    completed = subprocess.run(
        [
            str(dbt), "build", "--select", "open_listings",
            "--vars", json.dumps({"as_of": as_of}),
            "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
        ],
        cwd=db.parent, env={**os.environ, "DUCKDB_DATABASE": str(db), "DO_NOT_TRACK": "1"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-4000:]
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute("select * from main.open_listings")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def npl_open(serving: Path, *args: str) -> list[dict]:
    npl = Path(sys.executable).with_name("npl")
    out = subprocess.run(
        [str(npl), "open", "--db", str(serving), "--json", *args],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    return json.loads(out)


@pytest.mark.parametrize("as_of", DATES)
def test_open_listings_hold_exactly_the_projects_whose_deadline_is_after_the_build_time(
    warehouse_copy: Path, shared_dir: Path, as_of: str
) -> None:
    moment = datetime.fromisoformat(as_of)
    rows = open_listings_at(warehouse_copy, as_of)
    assert rows, "nothing built"
    assert {r["as_of"] for r in rows} == {moment}
    opened = [r for r in rows if r["status"] == "open"]
    keys = [project_key(r["project_name"]) for r in opened]
    assert len(keys) == len(set(keys)), "a project appears twice"
    expected, every_project = expected_open(shared_dir, moment)
    unparsed = unparsed_projects(warehouse_copy, shared_dir)
    assert len(unparsed) <= 12, f"more unparsed projects than expected: {len(unparsed)}"
    got = set(keys) - unparsed
    expected -= unparsed
    assert got == expected, (
        f"missing {sorted(expected - got)[:5]}, extra {sorted(got - expected)[:5]}"
    )
    assert set(keys) <= every_project
    for row in opened:
        assert row["registration_deadline"] > moment
        assert row["days_left"] == (row["registration_deadline"].date() - moment.date()).days
        assert row["announcement_url"] and row["announcement_url"].startswith("http")
    # the undecided ones: registration closed, auction not over / no result yet
    for row in rows:
        if row["status"] == "auction_pending":
            assert row["registration_deadline"] <= moment
            assert (row["auction_end"] or datetime.combine(row["bid_date"], datetime.min.time())
                    + timedelta(days=1)) > moment  # fmt: skip
        elif row["status"] == "awaiting_result":
            assert row["bid_date"] >= moment.date() - timedelta(days=60)
            assert project_key(row["project_name"]) not in expected


@pytest.mark.parametrize("as_of", DATES[:1])
def test_npl_open_as_of_agrees_with_the_model_from_the_published_data(
    warehouse_copy: Path, full_pipeline: dict, as_of: str
) -> None:
    model = open_listings_at(warehouse_copy, as_of)
    serving = full_pipeline["serving"]
    everything = npl_open(serving, "--as-of", as_of, "--include-later-listings")
    assert {(r["project_id"], r["status"]) for r in everything} == {
        (r["project_id"], r["status"]) for r in model
    }
    for row in everything:
        for key in (
            "project_name",
            "seller",
            "registration_deadline",
            "publication_date",
            "unpaid_total_yuan",
        ):
            assert key in row
    deadlines = [r["registration_deadline"] for r in everything if r["status"] == "open"]
    assert deadlines == sorted(deadlines), "soonest deadline first"

    # as a buyer saw it that day: nothing published later
    seen_then = npl_open(serving, "--as-of", as_of)
    assert seen_then
    assert all(r["listing_date"] <= as_of for r in seen_then)
    assert {r["project_id"] for r in seen_then} <= {r["project_id"] for r in model}

    # filters
    cf = npl_open(serving, "--as-of", as_of, "--seller-type", "股份行", "--min-total", "1e8")
    assert cf and all(
        r["seller_type"] == "股份行" and float(r["unpaid_total_yuan"]) >= 1e8 for r in cf
    )
    few = npl_open(serving, "--as-of", as_of, "--max-overdue-days", "100")
    assert all(float(r["weighted_avg_overdue_days"]) <= 100 for r in few)


def test_serving_publishes_open_listings_with_a_preview(full_pipeline: dict) -> None:
    result: dg.ExecuteInProcessResult = full_pipeline["result"]
    events = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("serving_database")
    ]
    metadata = events[-1].materialization.metadata
    assert "open_listings" in metadata["row_counts"].data
    assert "open_listings" in metadata
    con = duckdb.connect(str(full_pipeline["serving"]), read_only=True)
    try:
        (built_at,) = con.execute("select count(distinct as_of) from open_listings").fetchone()
        # an empty table still has the column; a filled one carries one build time
        assert built_at in (0, 1)
    finally:
        con.close()


def test_the_current_quarters_report_has_an_open_now_box(warehouse_copy: Path) -> None:
    from npl_assets.report import render
    from npl_assets.report.data import load_report

    rows = build_open_listings(warehouse_copy, "2023-06-15")
    opened = [r for r in rows if r["status"] == "open"]
    con = duckdb.connect(str(warehouse_copy), read_only=True)
    try:
        current = load_report(con, "2023Q2")  # the build time's quarter
        past = load_report(con, "2023Q1")
    finally:
        con.close()
    assert past.open_now is None
    box = current.open_now
    assert box is not None
    assert box.as_of == datetime(2023, 6, 15)
    assert box.open_projects == len(opened)
    assert box.undecided_projects == len(rows) - len(opened)
    assert box.open_unpaid_total_yuan == sum(r["unpaid_total_yuan"] for r in opened)
    soonest = min(opened, key=lambda r: (r["registration_deadline"], r["project_name"]))
    assert box.soonest[0].project_name == soonest["project_name"]
    html = render.to_html(current, ["2023Q1", "2023Q2"])
    assert "Open now" in html and soonest["project_name"] in html
    assert "Open now" not in render.to_html(past, ["2023Q1", "2023Q2"])

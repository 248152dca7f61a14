"""The suites on the parser's output for the bundled site's real 2023 listings: every hard
expectation passes, and the soft overdue expectations flag exactly the listings that the CSV
shows below 90 days or without the figure (expected sets computed from the CSV here)."""

from __future__ import annotations

import csv
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from npl_assets.quality.validation import validate_listings

OVERDUE = "加权平均逾期天数"


@pytest.mark.slow
def test_parsed_2023_listings_pass_hard_and_flag_known_soft_quirks(
    built_site: Path, shared_dir: Path
) -> None:
    parsing = pytest.importorskip("npl_assets.parsing")
    with (shared_dir / "data" / "yindeng_2023_listings.csv").open(encoding="utf-8-sig") as f:
        dataset = {int(row["序号"]): row for row in csv.DictReader(f)}
    manifest = json.loads((built_site / "manifest.json").read_text(encoding="utf-8"))

    rows: list[dict] = []
    serial_of: dict[str, int] = {}
    for doc in manifest["documents"]:
        if doc["doc_type"] != "listing":
            continue
        data = (built_site / doc["pdf_path"].lstrip("/")).read_bytes()
        record = parsing.parse_pdf(data, name=doc["pdf_path"]).to_json_dict()
        record.pop("document_type")
        record["sha256"] = hashlib.sha256(data).hexdigest()
        record["list_date"] = doc["list_date"]
        serial_of[record["sha256"]] = doc["serial"]
        rows.append(record)
    assert len(rows) == len(dataset) == 459

    report = validate_listings(pd.DataFrame(rows))

    assert report.hard_failures == [], report.failures_frame("hard").to_string()
    missing = {n for n, row in dataset.items() if not row[OVERDUE].strip()}
    below = {n for n, row in dataset.items() if row[OVERDUE].strip() and Decimal(row[OVERDUE]) < 90}
    assert (len(missing), len(below)) == (7, 12)  # the domain README's figures

    def flagged(expectation: str) -> set[int]:
        return {serial_of[f.sha256] for f in report.soft_failures if f.expectation == expectation}

    assert flagged("overdue_days_present") == missing
    assert flagged("overdue_days_at_least_90") == below
    # Nothing else warns: every footer date was read.
    assert {f.expectation for f in report.soft_failures} == {
        "overdue_days_present",
        "overdue_days_at_least_90",
    }

"""Round trip: every PDF of the built site parses back to its row of the real 2023 dataset.

The site generator and the parser share no code and no label tables, so a mistake in either
shows up here. The CSV-column -> record-field mapping lives in this test on purpose (nothing is
imported from npl_assets.site). Dataset columns the PDFs do not carry (受让方全称, 成交价格,
是否成交 on listings; 成交价格 on results) are left out; numbers compare by Decimal value, names
with whitespace removed and parentheses folded.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from npl_assets.parsing import ListingRecord, ResultRecord, parse_pdf

MONEY_COLUMNS = {
    "未偿本金总额（元）": "unpaid_principal_yuan",
    "未偿利息总额（元）": "unpaid_interest_yuan",
    "未偿本息总额（元）": "unpaid_total_yuan",
    "其他费用（元）": "other_fees_yuan",
    "单一借款人最高未偿本息余额（元）": "max_single_borrower_unpaid_yuan",
    "借款人平均未偿本息余额（元）": "avg_borrower_unpaid_yuan",
    "借款人加权平均授信额度（元）": "weighted_avg_credit_limit_yuan",
    "加权平均逾期天数": "weighted_avg_overdue_days",
    "借款人加权平均年龄": "weighted_avg_borrower_age",
    "起始价（元）": "starting_price_yuan",
    "加价幅度（元）": "bid_increment_yuan",
}
INT_COLUMNS = {
    "资产笔数（笔）": "loans",
    "借款人户数（户）": "borrowers",
    "延时周期（分钟）": "extension_minutes",
}
COUNT_GROUPS = {
    "five_class": ("次级", "可疑", "损失"),
    "write_off": ("已核销",),
    "guarantee": ("信用", "保证"),
    "litigation": (
        "未诉",
        "诉讼中",
        "已诉讼",
        "仲裁中",
        "已仲裁",
        "已判未执",
        "执行中",
        "撤回执行",
        "执行中止",
        "终结执行",
        "终本执行",
        "已调解",
        "其他",
    ),
}
_RELISTING = re.compile(r"[（(]重新挂牌[）)]")
_ALSO_OTHER = re.compile(r"(?P<n>\d+)[（(]另有其他(?P<other>\d+)[）)]")


def _text(value: str | None) -> str | None:
    """Whitespace-free, width-folded text for comparing names and remarks."""
    if value is None:
        return None
    folded = unicodedata.normalize("NFKC", "".join(value.split()))
    return folded or None


def _blank(value: str) -> bool:
    return value.strip() in ("", "nan")


def _number(value: str) -> Decimal | None:
    return None if _blank(value) else Decimal(value.strip().replace(",", ""))


def _minute(value: str) -> datetime:
    return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")


def expected_listing(row: dict[str, str]) -> dict[str, Any]:
    name = row["项目名称"]
    out: dict[str, Any] = {
        "title": _text(name + "不良贷款转让公告"),
        "project_name": _text(_RELISTING.sub("", name)),
        "is_relisting": bool(_RELISTING.search(name)),
        "seller": row["出让方主体名称"] + row["下属机构"],
        "transaction_base_date": date.fromisoformat(row["交易基准日"].strip()),
        "remarks": None if row["备注"].strip() in ("", "无") else _text(row["备注"]),
        "registration_deadline": _minute(row["竞价报名截止时间"]),
        "bid_date": _minute(row["竞价日"]).date(),
        "transfer_method": row["转让方式"].strip(),
        "bidding_method": row["竞价方式"].strip(),
        "auction_start": _minute(row["自由竞价开始时间"]),
        "auction_end": _minute(row["自由竞价结束时间"]),
        # The dataset has no publication date; the site dates a listing 14 days before its bid.
        "publication_date": _minute(row["竞价日"]).date() - timedelta(days=14),
    }
    for column, field in MONEY_COLUMNS.items():
        out[field] = _number(row[column])
    for column, field in INT_COLUMNS.items():
        out[field] = None if _blank(row[column]) else int(row[column])
    for field, names in COUNT_GROUPS.items():
        counts: dict[str, int] = {}
        for name in names:
            cell = row[f"{name}（笔）"].strip()
            if _blank(cell):
                continue
            # One row reads 保证 "2659（另有其他723）": 2659 guaranteed plus 723 other loans.
            m = _ALSO_OTHER.fullmatch(cell)
            counts[name] = int(m["n"] if m else cell)
            if m:
                counts["其他"] = int(m["other"])
        out[field] = counts or None
    return out


def expected_result(row: dict[str, str]) -> dict[str, Any]:
    name = row["项目名称"]
    signed = date.fromisoformat(row["转让协议签署日期"].strip())
    return {
        "title": _text(name + "不良贷款转让结果公告"),
        "project_name": _text(_RELISTING.sub("", name)),
        "project_code": row["项目编号"].strip(),
        "seller": row["出让方主体名称"] + row["下属机构"],
        "buyer": _text(row["受让方全称"]),
        "agreement_signed_date": signed,
        "publication_date": signed + timedelta(days=14),
    }


def _comparable(record: ListingRecord | ResultRecord, fields: list[str]) -> dict[str, Any]:
    got = {}
    for field in fields:
        value = getattr(record, field)
        if field in ("title", "project_name", "remarks", "buyer"):
            value = _text(value)
        got[field] = value
    return got


def _rows(shared_dir: Path, name: str) -> dict[int, dict[str, str]]:
    with (shared_dir / "data" / name).open(encoding="utf-8-sig", newline="") as f:
        return {int(row["序号"]): row for row in csv.DictReader(f)}


def test_every_site_pdf_parses_back_to_its_dataset_row(built_site: Path, shared_dir: Path) -> None:
    manifest = json.loads((built_site / "manifest.json").read_text(encoding="utf-8"))
    documents = manifest["documents"]
    rows = {
        "listing": _rows(shared_dir, "yindeng_2023_listings.csv"),
        "result": _rows(shared_dir, "yindeng_2023_results.csv"),
    }
    assert len(documents) == len(rows["listing"]) + len(rows["result"]) == 606
    assert {(d["doc_type"], d["serial"]) for d in documents} == {
        (kind, serial) for kind, by_serial in rows.items() for serial in by_serial
    }

    mismatches: list[str] = []
    for doc in documents:
        pdf = built_site / doc["pdf_path"].lstrip("/")
        record = parse_pdf(pdf, name=f"{doc['doc_type']} #{doc['serial']} {pdf.name}")
        assert record.document_type == doc["doc_type"], pdf
        row = rows[doc["doc_type"]][doc["serial"]]
        expected = (expected_listing if doc["doc_type"] == "listing" else expected_result)(row)
        if doc["is_real_sample"]:
            # The real PDFs are dated by their own footer, not by the site's 14-day rule.
            expected.pop("publication_date")
        got = _comparable(record, list(expected))
        for field, value in expected.items():
            if got[field] != value:
                mismatches.append(
                    f"{doc['doc_type']} 序号 {doc['serial']} {field}: "
                    f"dataset {value!r}, parsed {got[field]!r}"
                )
        # The index page's date is the PDF's publication date.
        assert date.fromisoformat(doc["list_date"]) == record.publication_date, pdf
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:40])

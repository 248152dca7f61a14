"""The expectation suites as plain functions: good rows pass, each corruption fails exactly the
expectation it breaks, and the real 2023 dataset passes every hard rule."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from npl_assets.quality.rules import LISTING_SUITE, RESULT_SUITE
from npl_assets.quality.summary import render_markdown, write_report
from npl_assets.quality.validation import QualitySuiteError, validate_listings, validate_results


def sha(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def listing_row(name: str = "good", **overrides: Any) -> dict[str, Any]:
    """A listing shaped like raw.listings, with the real values of the Huaxia sample PDF."""
    project = f"华夏银行股份有限公司信用卡中心关于2023年第2期信用卡不良贷款转让项目{name}"
    row: dict[str, Any] = {
        "sha256": sha(name),
        "parser_version": "test",
        "parsed_at": pd.Timestamp("2024-01-01 00:00"),
        "title": project + "不良贷款转让公告",
        "project_name": project,
        "is_relisting": False,
        "seller": "华夏银行股份有限公司信用卡中心",
        "batch_year": 2023,
        "batch_no": 2,
        "asset_type": "信用卡透支",
        "asset_type_wording": "信用卡",
        "transaction_base_date": "2023-09-23",
        "loans": 12276,
        "borrowers": 12200,
        "unpaid_principal_yuan": Decimal("252846432.87"),
        "unpaid_interest_yuan": Decimal("327762388.02"),
        "unpaid_total_yuan": Decimal("580608820.89"),
        "other_fees_yuan": Decimal("38136.00"),
        "weighted_avg_overdue_days": Decimal("1608.52"),
        "starting_price_yuan": Decimal("14100000.00"),
        "bid_date": "2023-12-21",
        "publication_date": "2023-12-07",
        "unread_fields": None,
    }
    row.update(overrides)
    return row


PRINCIPAL = Decimal("252846432.87")
TOTAL = Decimal("580608820.89")

# name -> (changes, the hard expectations that must fail, and only those)
CORRUPTIONS: dict[str, tuple[dict[str, Any], set[str]]] = {
    "total_does_not_add_up": (
        {"unpaid_total_yuan": TOTAL + 1},
        {"total_equals_principal_plus_interest"},
    ),
    "negative_interest": (
        {"unpaid_interest_yuan": Decimal("-5.00"), "unpaid_total_yuan": PRINCIPAL - 5},
        {"unpaid_interest_yuan_non_negative"},
    ),
    "overdue_99999_days": (
        {"weighted_avg_overdue_days": Decimal("99999")},
        {"overdue_days_in_range"},
    ),
    "starting_price_above_total": (
        {"starting_price_yuan": TOTAL + Decimal("0.01")},
        {"starting_price_at_most_unpaid_total"},
    ),
    "borrowers_above_loans": ({"borrowers": 12277}, {"borrowers_at_most_loans"}),
    "publication_and_bid_swapped": (
        {"publication_date": "2023-12-21", "bid_date": "2023-12-07"},
        {"publication_not_after_bid_date"},
    ),
    "base_date_after_publication": (
        {"transaction_base_date": "2023-12-08"},
        {"base_date_not_after_publication"},
    ),
    "missing_total": ({"unpaid_total_yuan": None}, {"unpaid_total_yuan_present"}),
    "missing_starting_price_2023": (
        {"starting_price_yuan": None},
        {"starting_price_present_before_2025_10_27"},
    ),
    "no_loans": ({"loans": 0, "borrowers": 0}, {"loans_positive", "borrowers_positive"}),
}

# Unusual but legitimate: every hard rule passes.
EDGE_CASES: dict[str, dict[str, Any]] = {
    "corporate_without_batch": {"asset_type": "对公", "batch_no": None, "batch_year": 2026},
    "after_2025_10_27_without_price": {
        "transaction_base_date": "2025-09-30",
        "publication_date": "2025-11-03",
        "bid_date": "2025-11-17",
        "starting_price_yuan": None,
    },
    "total_off_by_one_cent": {"unpaid_total_yuan": TOTAL + Decimal("0.01")},
    "starting_price_equals_total": {"starting_price_yuan": TOTAL},
    "one_borrower_per_loan": {"borrowers": 12276},
    "published_on_base_date": {"transaction_base_date": "2023-12-07"},
}


def corrupted_rows() -> list[dict[str, Any]]:
    return [listing_row(name, **changes) for name, (changes, _) in CORRUPTIONS.items()]


def edge_rows() -> list[dict[str, Any]]:
    return [listing_row(name, **changes) for name, changes in EDGE_CASES.items()]


def hard_failures_by_sha(report) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for failure in report.hard_failures:
        found.setdefault(failure.sha256, set()).add(failure.expectation)
    return found


def test_good_and_edge_rows_pass_every_expectation() -> None:
    report = validate_listings(pd.DataFrame([listing_row(), *edge_rows()]))
    assert report.failures == ()
    assert report.passed("hard") and report.passed("soft")
    assert all(o.passed for o in report.outcomes)
    assert {o.rule.name for o in report.outcomes} == {r.name for r in LISTING_SUITE.rules}


def test_each_corruption_fails_exactly_its_expectation() -> None:
    frame = pd.DataFrame([listing_row(), *corrupted_rows(), *edge_rows()])
    report = validate_listings(frame)
    expected = {sha(name): failing for name, (_, failing) in CORRUPTIONS.items()}
    assert hard_failures_by_sha(report) == expected
    assert report.held_back == sorted(expected)
    assert report.soft_failures == []


def test_failures_carry_the_row_key_and_the_observed_values() -> None:
    report = validate_listings(pd.DataFrame(corrupted_rows()))
    by_name = {(f.sha256, f.expectation): f for f in report.failures}

    interest = by_name[(sha("negative_interest"), "unpaid_interest_yuan_non_negative")]
    assert interest.column == "unpaid_interest_yuan"
    assert interest.value == "-5.00"
    assert interest.title.startswith("华夏银行") and "negative_interest" in interest.title
    assert interest.severity == "hard"

    total = by_name[(sha("total_does_not_add_up"), "total_equals_principal_plus_interest")]
    assert total.value == {
        "unpaid_principal_yuan": "252846432.87",
        "unpaid_interest_yuan": "327762388.02",
        "unpaid_total_yuan": "580608821.89",
    }
    assert "unpaid_total_yuan=580608821.89" in total.observed

    overdue = by_name[(sha("overdue_99999_days"), "overdue_days_in_range")]
    assert overdue.observed == "99999"

    borrowers = by_name[(sha("borrowers_above_loans"), "borrowers_at_most_loans")]
    assert borrowers.value == {"borrowers": 12277, "loans": 12276}

    dates = by_name[(sha("publication_and_bid_swapped"), "publication_not_after_bid_date")]
    assert dates.value == {"listing_date": "2023-12-21", "bid_date": "2023-12-07"}

    missing = by_name[(sha("missing_total"), "unpaid_total_yuan_present")]
    assert missing.value is None and missing.observed == "null"


def test_total_tolerance_is_one_cent() -> None:
    frame = pd.DataFrame(
        [
            listing_row("cent", unpaid_total_yuan=TOTAL - Decimal("0.01")),
            listing_row("two_cents", unpaid_total_yuan=TOTAL - Decimal("0.02")),
        ]
    )
    assert hard_failures_by_sha(validate_listings(frame)) == {
        sha("two_cents"): {"total_equals_principal_plus_interest"}
    }


def test_soft_expectations_warn_without_holding_back() -> None:
    frame = pd.DataFrame(
        [
            listing_row("no_overdue", weighted_avg_overdue_days=None),
            listing_row("young_debt", weighted_avg_overdue_days=Decimal("78")),
            listing_row("ninety", weighted_avg_overdue_days=Decimal("90")),
        ]
    )
    report = validate_listings(frame)
    assert report.hard_failures == []
    assert report.held_back == []
    assert {(f.sha256, f.expectation) for f in report.soft_failures} == {
        (sha("no_overdue"), "overdue_days_present"),
        (sha("young_debt"), "overdue_days_at_least_90"),
    }


def test_descriptive_gaps_warn_and_name_what_to_look_at() -> None:
    """Only what the marts cannot do without holds a listing back; a missing descriptive field,
    an unknown asset-type wording or an unreadable value warns, naming the wording or raw text."""
    frame = pd.DataFrame(
        [
            listing_row("no_batch", batch_no=None),
            listing_row("no_counts", loans=None, borrowers=None, transaction_base_date=None),
            listing_row("new_wording", asset_type="其他", asset_type_wording="个人住房按揭"),
            listing_row("unread", other_fees_yuan=None, unread_fields='{"other_fees_yuan": "x"}'),
        ]
    )
    report = validate_listings(frame)
    assert report.hard_failures == [] and report.held_back == []
    found = {(f.sha256, f.expectation) for f in report.soft_failures}
    assert found == {
        (sha("no_batch"), "batch_no_present"),
        (sha("no_counts"), "loans_present"),
        (sha("no_counts"), "borrowers_present"),
        (sha("no_counts"), "transaction_base_date_present"),
        (sha("new_wording"), "asset_type_wording_known"),
        (sha("unread"), "all_values_read"),
    }
    by_name = {f.expectation: f for f in report.soft_failures}
    assert by_name["asset_type_wording_known"].value == {
        "asset_type": "其他",
        "asset_type_wording": "个人住房按揭",
    }
    assert "other_fees_yuan" in str(by_name["all_values_read"].value)


def test_blank_text_counts_as_missing() -> None:
    report = validate_listings(pd.DataFrame([listing_row("blank_seller", seller="  ")]))
    assert hard_failures_by_sha(report) == {sha("blank_seller"): {"seller_present"}}


def test_the_index_date_stands_in_for_a_missing_footer_date() -> None:
    rows = [
        listing_row("footer_missing", publication_date=None, list_date="2023-12-07"),
        listing_row("both_missing", publication_date=None, list_date=None),
    ]
    report = validate_listings(pd.DataFrame(rows))
    assert hard_failures_by_sha(report) == {sha("both_missing"): {"listing_date_present"}}
    assert {(f.sha256, f.expectation) for f in report.soft_failures} == {
        (sha("footer_missing"), "publication_date_present"),
        (sha("both_missing"), "publication_date_present"),
    }


def test_duplicate_documents_are_all_flagged() -> None:
    report = validate_listings(pd.DataFrame([listing_row("twice"), listing_row("twice")]))
    assert [f.expectation for f in report.hard_failures] == ["sha256_unique", "sha256_unique"]


def test_empty_frame_passes() -> None:
    report = validate_listings(pd.DataFrame([listing_row()]).iloc[0:0])
    assert report.rows == 0 and report.failures == ()


def test_a_frame_missing_a_column_is_an_error_not_clean_data() -> None:
    frame = pd.DataFrame([listing_row()]).drop(columns=["borrowers"])
    with pytest.raises(QualitySuiteError, match="borrowers"):
        validate_listings(frame)


def result_row(name: str = "good", **overrides: Any) -> dict[str, Any]:
    """A result shaped like raw.results, with the values of the Hebei sample PDF."""
    row: dict[str, Any] = {
        "sha256": sha(f"result-{name}"),
        "title": "河北银行股份有限公司关于2023年第1期信用卡不良贷款转让项目不良贷款转让结果公告",
        "project_name": "河北银行股份有限公司关于2023年第1期信用卡不良贷款转让项目",
        "project_code": "NPL2023003560",
        "seller": "河北银行股份有限公司",
        "buyer": "天津滨海正信资产管理有限公司",
        "agreement_signed_date": "2023-11-24",
        "publication_date": "2023-12-11",
        "unread_fields": None,
    }
    row.update(overrides)
    return row


def test_results_suite() -> None:
    rows = [
        result_row(),
        result_row("old_code", project_code="22000096"),
        result_row("typo_prefix", project_code="NLP2023001161"),
        result_row("eleven_digits", project_code="NPL20230035601"),
        result_row("garbage_code", project_code="项目编号"),
        result_row("no_buyer", buyer=None),
        result_row("late_agreement", agreement_signed_date="2023-12-12"),
    ]
    report = validate_results(pd.DataFrame(rows))
    assert {(f.sha256, f.expectation) for f in report.hard_failures} == {
        (sha("result-eleven_digits"), "project_code_format"),
        (sha("result-garbage_code"), "project_code_format"),
        (sha("result-no_buyer"), "buyer_present"),
        (sha("result-late_agreement"), "agreement_not_after_publication"),
    }
    # The soft rule flags every non-canonical code: the typo, and the hard failures again.
    assert {f.sha256 for f in report.soft_failures} == {
        sha("result-typo_prefix"),
        sha("result-eleven_digits"),
        sha("result-garbage_code"),
    }


def test_markdown_report_lists_failing_rows(tmp_path: Path) -> None:
    report = validate_listings(pd.DataFrame([listing_row(), *corrupted_rows()]))
    path = write_report(report, tmp_path)
    assert path == tmp_path / "listings.md"
    text = path.read_text(encoding="utf-8")
    assert text == render_markdown(report)
    assert "**FAILED**" in text
    for _, failing in CORRUPTIONS.values():
        for name in failing:
            assert f"## {name} (hard)" in text
    assert sha("negative_interest")[:16] in text
    assert sha("good")[:16] not in text


# --- the real 2023 dataset, straight from the CSV -----------------------------------------------


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def blank(value: str) -> str | None:
    return value if value.strip() else None


def csv_listings_frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    """The CSV mapped to raw.listings columns (publication date = bid date - 14 days, as the
    bundled site prints it)."""
    records = []
    for number, row in enumerate(rows):
        bid = pd.Timestamp(row["竞价日"]).normalize()
        records.append(
            {
                "sha256": sha(f"csv-{number}"),
                "title": row["项目名称"] + "不良贷款转让公告",
                "seller": row["出让方主体名称"] + row["下属机构"],
                "batch_no": 1,
                "asset_type": None,
                "transaction_base_date": row["交易基准日"],
                "loans": row["资产笔数（笔）"],
                "borrowers": row["借款人户数（户）"],
                "unpaid_principal_yuan": row["未偿本金总额（元）"],
                "unpaid_interest_yuan": row["未偿利息总额（元）"],
                "unpaid_total_yuan": row["未偿本息总额（元）"],
                "other_fees_yuan": blank(row["其他费用（元）"]),
                "weighted_avg_overdue_days": blank(row["加权平均逾期天数"]),
                "starting_price_yuan": blank(row["起始价（元）"]),
                "bid_date": bid,
                "publication_date": bid - pd.Timedelta(days=14),
                "unread_fields": None,
            }
        )
    return pd.DataFrame(records)


def test_real_2023_listings_pass_hard_rules_and_soft_rules_flag_the_known_quirks(
    shared_dir: Path,
) -> None:
    rows = read_csv(shared_dir / "data" / "yindeng_2023_listings.csv")
    report = validate_listings(csv_listings_frame(rows))
    assert report.hard_failures == []
    missing = {sha(f"csv-{n}") for n, r in enumerate(rows) if not r["加权平均逾期天数"].strip()}
    below = {
        sha(f"csv-{n}")
        for n, r in enumerate(rows)
        if r["加权平均逾期天数"].strip() and Decimal(r["加权平均逾期天数"]) < 90
    }
    assert (len(missing), len(below)) == (7, 12)  # the domain README's figures
    flagged = Counter((f.expectation, f.sha256) for f in report.soft_failures)
    assert set(flagged) == {("overdue_days_present", s) for s in missing} | {
        ("overdue_days_at_least_90", s) for s in below
    }


def test_real_2023_results_pass_hard_rules(shared_dir: Path) -> None:
    rows = read_csv(shared_dir / "data" / "yindeng_2023_results.csv")
    frame = pd.DataFrame(
        {
            "sha256": sha(f"csv-result-{n}"),
            "title": r["项目名称"] + "不良贷款转让结果公告",
            "project_name": r["项目名称"],
            "project_code": r["项目编号"],
            "seller": r["出让方主体名称"] + r["下属机构"],
            "buyer": blank(r["受让方全称"]),
            "agreement_signed_date": r["转让协议签署日期"],
            "publication_date": pd.Timestamp(r["转让协议签署日期"]) + pd.Timedelta(days=14),
            "unread_fields": None,
        }
        for n, r in enumerate(rows)
    )
    report = validate_results(frame)
    assert report.hard_failures == []
    typos = [r["项目编号"] for r in rows if not r["项目编号"].startswith("NPL")]
    typos = [code for code in typos if not (len(code) == 8 and code.isdigit())]
    assert [f.value for f in report.soft_failures] == typos == ["NLP2023001161"]


def test_suites_have_unique_rule_names_and_severities() -> None:
    for suite in (LISTING_SUITE, RESULT_SUITE):
        names = [r.name for r in suite.rules]
        assert len(names) == len(set(names))
        assert {r.severity for r in suite.rules} == {"hard", "soft"}

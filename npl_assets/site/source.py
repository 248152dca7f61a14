"""The site's documents: rows of the real 2023 dataset (or synthetic rows of the same shape), each
with its title, publication date and place on the site."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from npl_assets.site.formats import parse_day
from npl_assets.site.layout import (
    SECTION_DIRS,
    TITLE_SUFFIXES,
    DocType,
    detail_name,
    month_dir,
    pdf_name,
)

LISTINGS_CSV = "yindeng_2023_listings.csv"
RESULTS_CSV = "yindeng_2023_results.csv"

# The dataset has no publication dates; these offsets reproduce the real samples' footers
# (listing: bid date 2023-12-21 -> published 2023-12-07).
LISTING_PUBLICATION_LEAD = timedelta(days=14)
RESULT_PUBLICATION_LAG = timedelta(days=14)

COUNT_COLUMNS = (
    "次级（笔）",
    "可疑（笔）",
    "损失（笔）",
    "已核销（笔）",
    "信用（笔）",
    "保证（笔）",
    "未诉（笔）",
    "诉讼中（笔）",
    "已诉讼（笔）",
    "仲裁中（笔）",
    "已仲裁（笔）",
    "已判未执（笔）",
    "执行中（笔）",
    "撤回执行（笔）",
    "执行中止（笔）",
    "终结执行（笔）",
    "终本执行（笔）",
    "已调解（笔）",
    "其他（笔）",
)
LISTING_COLUMNS = (
    "序号",
    "项目名称",
    "出让方主体名称",
    "下属机构",
    "交易基准日",
    "资产笔数（笔）",
    "借款人户数（户）",
    "加权平均逾期天数",
    "单一借款人最高未偿本息余额（元）",
    "借款人加权平均年龄",
    "未偿本金总额（元）",
    "未偿利息总额（元）",
    "未偿本息总额（元）",
    "其他费用（元）",
    "借款人平均未偿本息余额（元）",
    "借款人加权平均授信额度（元）",
    *COUNT_COLUMNS,
    "备注",
    "竞价报名截止时间",
    "竞价日",
    "转让方式",
    "竞价方式",
    "自由竞价开始时间",
    "自由竞价结束时间",
    "延时周期（分钟）",
    "起始价（元）",
    "加价幅度（元）",
)
RESULT_COLUMNS = (
    "序号",
    "项目名称",
    "项目编号",
    "出让方主体名称",
    "下属机构",
    "受让方全称",
    "转让协议签署日期",
)


@dataclass(frozen=True)
class RealSample:
    """A real PDF served byte for byte in place of the generated twin of one dataset row."""

    doc_type: DocType
    serial: int
    project_name: str
    filename: str
    # The real footer date where the dataset rule (agreement + 14 days) would differ from it.
    publication_date: date | None = None


REAL_SAMPLES = (
    RealSample(
        "listing",
        415,
        "华夏银行股份有限公司信用卡中心关于2023年第2期信用卡不良贷款转让项目",
        "listing_huaxia_cc_2023_02.pdf",
    ),
    RealSample(
        "result",
        147,
        "河北银行股份有限公司关于2023年第1期信用卡不良贷款转让项目",
        "result_hebei_2023_01.pdf",
        publication_date=date(2023, 12, 11),
    ),
)


class SiteDataMissing(FileNotFoundError):
    """The shared folder with the 2023 dataset is not where we looked."""


@dataclass
class Document:
    """One announcement on the site: a dataset row plus where and when it is published."""

    doc_type: DocType
    serial: int
    row: dict[str, str]
    publication: date
    number: int  # the CMS document number in the detail page's name
    synthetic: bool = False
    real_pdf: Path | None = None
    title: str = field(init=False)

    def __post_init__(self) -> None:
        self.title = self.row["项目名称"] + TITLE_SUFFIXES[self.doc_type]

    @property
    def key(self) -> str:
        return f"{self.doc_type}:{self.serial}"

    @property
    def folder(self) -> str:
        """URL path of the detail page's folder, relative to the site root."""
        return f"{SECTION_DIRS[self.doc_type]}/{month_dir(self.publication)}"

    @property
    def detail_file(self) -> str:
        return detail_name(self.publication, self.number)

    @property
    def pdf_file(self) -> str:
        return pdf_name(self.publication, f"{self.key}:{self.title}")

    @property
    def detail_path(self) -> str:
        return f"/{self.folder}/{self.detail_file}"

    @property
    def pdf_path(self) -> str:
        return f"/{self.folder}/{self.pdf_file}"

    @property
    def index_href(self) -> str:
        """The list item's relative link from the section's index pages."""
        return f"./{month_dir(self.publication)}/{self.detail_file}"


def seller_name(row: dict[str, str]) -> str:
    """Full seller name: the institution plus its branch or card centre, if any."""
    return row["出让方主体名称"].strip() + row["下属机构"].strip()


def _day(row: dict[str, str], column: str, what: str) -> date:
    try:
        return parse_day(row[column])
    except ValueError as exc:
        raise ValueError(f"{what} {row['序号']} {column}: {exc}") from None


def listing_publication(row: dict[str, str]) -> date:
    return _day(row, "竞价日", "listing") - LISTING_PUBLICATION_LEAD


def result_publication(row: dict[str, str]) -> date:
    return _day(row, "转让协议签署日期", "result") + RESULT_PUBLICATION_LAG


def read_csv_rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The CSV's rows as str dicts; a missing column or a bad serial is an error."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}")
        rows = [{k: (v or "") for k, v in row.items() if k is not None} for row in reader]
    seen: set[int] = set()
    for line, row in enumerate(rows, 2):
        serial = row["序号"].strip()
        if not serial.isdigit():
            raise ValueError(f"{path}:{line}: 序号 must be a positive integer, got {serial!r}")
        if int(serial) in seen:
            raise ValueError(f"{path}:{line}: duplicate 序号 {serial}")
        seen.add(int(serial))
        if not row["项目名称"].strip():
            raise ValueError(f"{path}:{line}: empty 项目名称")
    return rows


def data_files(shared_dir: Path | None) -> tuple[Path, Path]:
    """The two CSVs under `shared_dir/data`, or SiteDataMissing saying where we looked."""
    if shared_dir is None:
        raise SiteDataMissing(
            "no shared folder given: pass shared_dir (the folder holding data/"
            f"{LISTINGS_CSV}) or ask for a synthetic site"
        )
    listings, results = shared_dir / "data" / LISTINGS_CSV, shared_dir / "data" / RESULTS_CSV
    missing = [str(p) for p in (listings, results) if not p.is_file()]
    if missing:
        raise SiteDataMissing(
            f"the 2023 dataset is missing: looked for {', '.join(missing)} "
            "(set NPL_SHARED_DIR to the shared folder, or build a synthetic site)"
        )
    return listings, results


def make_documents(
    listing_rows: list[dict[str, str]],
    result_rows: list[dict[str, str]],
    *,
    synthetic: bool,
    samples_dir: Path | None = None,
) -> list[Document]:
    """Documents for all rows. Listings keep their serial as document number; results follow
    after the highest listing serial, so numbers are unique across the site."""
    listing_max = max((int(r["序号"]) for r in listing_rows), default=0)
    docs: list[Document] = []
    for row in listing_rows:
        serial = int(row["序号"])
        docs.append(Document("listing", serial, row, listing_publication(row), serial, synthetic))
    for row in result_rows:
        serial = int(row["序号"])
        docs.append(
            Document(
                "result", serial, row, result_publication(row), listing_max + serial, synthetic
            )
        )
    if samples_dir is not None:
        _attach_real_samples(docs, samples_dir)
    return docs


def _attach_real_samples(docs: list[Document], samples_dir: Path) -> None:
    by_key = {d.key: d for d in docs}
    for sample in REAL_SAMPLES:
        doc = by_key.get(f"{sample.doc_type}:{sample.serial}")
        if doc is None or doc.row["项目名称"].strip() != sample.project_name:
            raise ValueError(
                f"real sample {sample.filename}: dataset {sample.doc_type} row {sample.serial} "
                f"is not {sample.project_name!r}; has the dataset changed?"
            )
        path = samples_dir / sample.filename
        if not path.is_file():
            raise SiteDataMissing(f"real sample PDF missing: {path}")
        doc.real_pdf = path
        if sample.publication_date is not None:
            doc.publication = sample.publication_date


def load_documents(shared_dir: Path | None) -> list[Document]:
    """The real 2023 dataset's 459 listings and 147 results, with the two real samples."""
    listings_csv, results_csv = data_files(shared_dir)
    assert shared_dir is not None
    return make_documents(
        read_csv_rows(listings_csv, LISTING_COLUMNS),
        read_csv_rows(results_csv, RESULT_COLUMNS),
        synthetic=False,
        samples_dir=shared_dir / "domain" / "samples",
    )


def newest_first(docs: list[Document]) -> list[Document]:
    """Index order: publication date descending; ties by document number descending."""
    return sorted(docs, key=lambda d: (d.publication, d.number), reverse=True)

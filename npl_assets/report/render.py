"""QuarterReport -> sections -> a self-contained HTML page and the same content as markdown.
Pure functions: no I/O, no clock, so one report always renders to the same bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from npl_assets.domain import UNCLASSIFIED_SELLER_TYPE
from npl_assets.report import charts
from npl_assets.report.model import (
    OVERDUE_BUCKETS,
    STARTING_PRICE_DROPPED_ON,
    DocumentCoverage,
    Figure,
    Group,
    QuarterReport,
    ratio,
    shift_quarter,
)

YI = Decimal(100_000_000)  # 1亿元
NA = "n/a"


# ---- number formats -------------------------------------------------------------------------


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def fmt_yi(yuan: Decimal | None) -> str:
    """元 -> 亿元 with two decimals and thousands separators."""
    if yuan is None:
        return NA
    return f"{_round(Decimal(yuan) / YI, 2):,.2f}"


def fmt_count(value: int | None) -> str:
    return NA if value is None else f"{int(value):,}"


def fmt_share(part: Decimal | int | None, whole: Decimal | int | None) -> str:
    share = ratio(
        None if part is None else Decimal(part), None if whole is None else Decimal(whole)
    )
    return NA if share is None else f"{_round(share * 100, 1)}%"


def fmt_change(value: Decimal | int, base: Decimal | int | None) -> str:
    """Relative change on `base`; n/a where the base quarter is missing or zero."""
    if base is None or base == 0:
        return NA
    change = _round((Decimal(value) - Decimal(base)) / Decimal(base) * 100, 1)
    return f"{change:+}%"


def fmt_ratio(value: Decimal | None) -> str:
    """A starting-price ratio as percent and as 折 (0.10 = 1折)."""
    if value is None:
        return NA
    return f"{_round(value * 100, 2)}% ({_round(value * 10, 2)}折)"


def fmt_days(days: Decimal | None) -> str:
    return NA if days is None else f"{_round(Decimal(days), 0):,}"


def fmt_figure(figure: Figure | None, value: Decimal | int | None) -> str:
    if value is None:
        return NA
    if figure is not None and figure.kind == "money":
        return f"{fmt_yi(Decimal(value))}亿元"
    return fmt_count(int(value))


# ---- sections: the content both outputs share -------------------------------------------------


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]  # right-aligned columns
    footer: list[str] | None = None  # a totals row


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    changes: list[str]


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)  # SVG, HTML only


def headline_section(report: QuarterReport) -> Section:
    previous = shift_quarter(report.quarter, -1)
    year_ago = shift_quarter(report.quarter, -4)
    cards = [
        Card(
            label=f.label,
            value=fmt_figure(f, f.value),
            changes=[
                f"vs {previous}: {fmt_change(f.value, f.previous_quarter)}",
                f"vs {year_ago}: {fmt_change(f.value, f.year_ago)}",
            ],
        )
        for f in report.headline
    ]
    table = Table(
        headers=["figure", report.quarter, previous, "change", year_ago, "change"],
        rows=[
            [
                f.label,
                fmt_figure(f, f.value),
                fmt_figure(f, f.previous_quarter),
                fmt_change(f.value, f.previous_quarter),
                fmt_figure(f, f.year_ago),
                fmt_change(f.value, f.year_ago),
            ]
            for f in report.headline
        ],
        numeric=[False, True, True, True, True, True],
    )
    return Section(
        anchor="headline",
        title="Headline",
        paragraphs=[
            f"Projects first listed (挂牌) on Yindeng in {report.quarter}, with the change on "
            f"the previous quarter ({previous}) and on the same quarter a year before "
            f"({year_ago}); n/a where the data hold no such quarter. Amounts are unpaid "
            "principal plus interest (未偿本息) as listed, not sale prices."
        ],
        cards=cards,
        tables=[table],
    )


def trend_section(report: QuarterReport) -> Section:
    columns = [(q, float(amount / YI), fmt_yi(amount)) for q, amount in report.trend]
    return Section(
        anchor="trend",
        title="Listed unpaid total by quarter (亿元)",
        tables=[
            Table(
                headers=["quarter", "unpaid total listed (亿元)"],
                rows=[[q, fmt_yi(amount)] for q, amount in report.trend],
                numeric=[False, True],
            )
        ],
        charts=[
            charts.column_chart(
                "Unpaid total listed, 亿元, by first-listing quarter",
                columns,
                highlight=report.quarter,
            )
        ]
        if columns
        else [],
    )


def _breakdown_table(groups: Sequence[Group], total: Group, first: str) -> Table:
    return Table(
        headers=[
            first,
            "listings",
            "share",
            "unpaid total (亿元)",
            "share",
            "borrowers",
            "sold",
        ],
        rows=[
            [
                g.name,
                fmt_count(g.listings),
                fmt_share(g.listings, total.listings),
                fmt_yi(g.unpaid_total_yuan),
                fmt_share(g.unpaid_total_yuan, total.unpaid_total_yuan),
                fmt_count(g.borrowers),
                fmt_count(g.sold_listings),
            ]
            for g in groups
        ],
        numeric=[False, True, True, True, True, True, True],
        footer=[
            "total",
            fmt_count(total.listings),
            "100%" if total.listings else NA,
            fmt_yi(total.unpaid_total_yuan),
            "100%" if total.unpaid_total_yuan else NA,
            fmt_count(total.borrowers),
            fmt_count(total.sold_listings),
        ],
    )


def _share_chart(title: str, groups: Sequence[Group], total: Group, color: str) -> str:
    ordered = sorted(groups, key=lambda g: g.unpaid_total_yuan, reverse=True)
    return charts.hbar_chart(
        title,
        [
            (
                g.name,
                float(g.unpaid_total_yuan / YI),
                f"{fmt_yi(g.unpaid_total_yuan)}"
                f" ({fmt_share(g.unpaid_total_yuan, total.unpaid_total_yuan)})",
            )
            for g in ordered
        ],
        color=color,
    )


def unclassified_sentence(report: QuarterReport) -> str:
    """How much of the quarter's listed volume comes from sellers nothing classified, so a
    reader knows how far the seller-type split can be trusted."""
    total = report.total
    unclassified = next(
        (g for g in report.by_seller_type if g.name == UNCLASSIFIED_SELLER_TYPE), None
    )
    if unclassified is None or unclassified.listings == 0:
        return (
            f"Unclassified sellers ({UNCLASSIFIED_SELLER_TYPE}): none; every seller of the "
            "quarter has a type."
        )
    return (
        f"Unclassified sellers ({UNCLASSIFIED_SELLER_TYPE}): "
        f"{fmt_yi(unclassified.unpaid_total_yuan)} 亿元 of {fmt_yi(total.unpaid_total_yuan)} "
        f"亿元 listed ({fmt_share(unclassified.unpaid_total_yuan, total.unpaid_total_yuan)} of "
        f"the quarter's unpaid total), {fmt_count(unclassified.listings)} of "
        f"{fmt_count(total.listings)} listings: sellers in no seed row, reference list or name "
        "rule of the dbt project (the warn check assert_all_sellers_classified names them)."
    )


def breakdown_sections(report: QuarterReport) -> list[Section]:
    total = report.total
    return [
        Section(
            anchor="seller-type",
            title="By seller type",
            paragraphs=[
                "Listings, unpaid total listed and borrowers by the seller's type; "
                "sold = projects of the quarter with a published result (转让结果公告) so far.",
                unclassified_sentence(report),
            ],
            tables=[_breakdown_table(report.by_seller_type, total, "seller type")],
            charts=[
                _share_chart(
                    "Unpaid total by seller type, 亿元 (share)",
                    report.by_seller_type,
                    total,
                    charts.PALETTE[0],
                )
            ],
        ),
        Section(
            anchor="asset-type",
            title="By asset type",
            tables=[_breakdown_table(report.by_asset_type, total, "asset type")],
            charts=[
                _share_chart(
                    "Unpaid total by asset type, 亿元 (share)",
                    report.by_asset_type,
                    total,
                    charts.PALETTE[2],
                )
            ],
        ),
    ]


def top_sections(report: QuarterReport) -> list[Section]:
    sellers = Table(
        headers=[
            "#",
            "seller",
            "type",
            "listings",
            "unpaid total (亿元)",
            "borrowers",
            "weighted overdue days",
            "starting-price ratio",
            "sold",
        ],
        rows=[
            [
                str(i),
                s.seller,
                s.seller_type,
                fmt_count(s.listings),
                fmt_yi(s.unpaid_total_yuan),
                fmt_count(s.borrowers),
                fmt_days(s.weighted_avg_overdue_days),
                fmt_ratio(s.starting_price_ratio),
                fmt_count(s.sold_listings),
            ]
            for i, s in enumerate(report.top_sellers, 1)
        ],
        numeric=[True, False, False, True, True, True, True, True, True],
    )
    buyers = Table(
        headers=["#", "buyer", "projects bought", "unpaid total bought (亿元)"],
        rows=[
            [str(i), b.buyer, fmt_count(b.projects), fmt_yi(b.unpaid_total_yuan)]
            for i, b in enumerate(report.top_buyers, 1)
        ],
        numeric=[True, False, True, True],
    )
    league = Table(
        headers=[
            "#",
            "buyer",
            "projects bought, all quarters",
            "of which listing not in the data",
            "unpaid total bought (亿元)",
        ],
        rows=[
            [
                str(i),
                b.buyer,
                fmt_count(b.projects_bought),
                fmt_count(b.projects_without_listing),
                fmt_yi(b.unpaid_total_yuan),
            ]
            for i, b in enumerate(report.buyer_league, 1)
        ],
        numeric=[True, False, True, True, True],
    )
    no_buyers = Table(["buyer"], [["(no result announcements yet)"]], [False])
    return [
        Section(
            anchor="top-sellers",
            title="Top 10 sellers",
            paragraphs=["By unpaid total listed in the quarter."],
            tables=[sellers],
        ),
        Section(
            anchor="top-buyers",
            title="Top 10 buyers",
            paragraphs=[
                f"By unpaid total bought; {report.buyers_scope}. Buyers are named in result "
                "announcements, which never state the price.",
            ],
            tables=[buyers if report.top_buyers else no_buyers],
        ),
        Section(
            anchor="buyer-league",
            title="Buyer league, all quarters",
            paragraphs=[
                "The buyer_league mart: every sale in the data, whatever the quarter, ranked by "
                "projects bought. A sale whose listing is not in the data (listed before the "
                "crawl window, say) counts as a project but adds nothing to the amount."
            ],
            tables=[league if report.buyer_league else no_buyers],
        ),
    ]


def _starting_price_table(groups: Sequence[Group], total: Group, first: str) -> Table:
    def row(g: Group) -> list[str]:
        return [
            g.name,
            fmt_yi(g.starting_price_yuan),
            fmt_yi(g.starting_price_base_yuan),
            fmt_ratio(g.starting_price_ratio),
            fmt_count(g.listings_without_starting_price),
        ]

    return Table(
        headers=[
            first,
            "starting price (亿元)",
            "unpaid total of those listings (亿元)",
            "starting-price ratio",
            "listings without a starting price",
        ],
        rows=[row(g) for g in groups],
        numeric=[False, True, True, True, True],
        footer=row(total),
    )


def starting_price_section(report: QuarterReport) -> Section:
    total = report.total
    without = total.listings_without_starting_price
    return Section(
        anchor="starting-price",
        title="Starting price (起始价) / unpaid total (未偿本息)",
        paragraphs=[
            "The starting price is the auction's opening bid, stated in each listing; the sale "
            "price is almost never public, so this is a starting-price discount, not a price "
            "paid (0.10 = 1折). The ratio is the summed starting prices over the summed unpaid "
            "totals of the listings that state one.",
            f"Listings published from {STARTING_PRICE_DROPPED_ON} on no longer disclose a "
            f"starting price: in {report.quarter}, {fmt_count(without)} of "
            f"{fmt_count(total.listings)} listings disclose none.",
        ],
        tables=[
            _starting_price_table(report.by_seller_type, total, "seller type"),
            _starting_price_table(report.by_asset_type, total, "asset type"),
        ],
        charts=[
            charts.hbar_chart(
                "Starting-price ratio by seller type, %",
                [
                    (
                        g.name,
                        float(g.starting_price_ratio * 100),
                        fmt_ratio(g.starting_price_ratio),
                    )
                    for g in report.by_seller_type
                    if g.starting_price_ratio is not None
                ],
                color=charts.PALETTE[3],
            )
        ],
    )


def overdue_section(report: QuarterReport) -> Section:
    projects = sum(b.projects for b in report.overdue)
    amount = sum((b.unpaid_total_yuan for b in report.overdue), Decimal(0))
    table = Table(
        headers=["weighted overdue", "projects", "share", "unpaid total (亿元)", "share"],
        rows=[
            [
                b.label,
                fmt_count(b.projects),
                fmt_share(b.projects, projects),
                fmt_yi(b.unpaid_total_yuan),
                fmt_share(b.unpaid_total_yuan, amount),
            ]
            for b in report.overdue
        ],
        numeric=[False, True, True, True, True],
        footer=["total", fmt_count(projects), "100%", fmt_yi(amount), "100%"],
    )
    by_amount = [float(ratio(b.unpaid_total_yuan, amount) or 0) * 100 for b in report.overdue]
    by_count = [
        float(ratio(Decimal(b.projects), Decimal(projects)) or 0) * 100 for b in report.overdue
    ]
    return Section(
        anchor="overdue",
        title="Weighted overdue days",
        paragraphs=[
            "Projects by their weighted average overdue days (加权平均逾期天数, weighted by "
            "unpaid total), a year taken as 365 days: "
            + ", ".join(
                f"{label} = [{low}, {high if high is not None else '∞'}) days"
                for label, low, high in OVERDUE_BUCKETS
            )
            + "."
        ],
        tables=[table],
        charts=[
            charts.grouped_hbar_chart(
                "Share of projects and of unpaid total by weighted overdue days, %",
                [b.label for b in report.overdue],
                [
                    ("by unpaid total", by_amount, [f"{v:.1f}%" for v in by_amount]),
                    ("by count", by_count, [f"{v:.1f}%" for v in by_count]),
                ],
            )
        ],
    )


def _coverage_note(quarter: str, q: DocumentCoverage | None) -> list[str]:
    if q is None:
        return []
    if not q.missing:
        return [
            f"Coverage: all {q.stored:,} listing documents indexed in {quarter} are in "
            "these figures."
        ]
    unparsed = q.missing - q.quarantined - q.failed
    return [
        f"Coverage: {q.missing:,} of the {q.stored:,} listing documents indexed in {quarter} "
        f"are not in these figures ({q.quarantined:,} held back by quality checks, "
        f"{q.failed:,} failed to parse"
        + (f", {unparsed:,} not parsed yet" if unparsed else "")
        + "; `npl status --all` lists them)."
    ]


def methods_section(report: QuarterReport) -> Section:
    c = report.coverage

    def counts(mapping: dict[str, int] | None) -> str:
        if mapping is None:
            return "not in this database (the serving file publishes the marts only)"
        return ", ".join(f"{k} {v:,}" for k, v in sorted(mapping.items())) or "0"

    rows = [
        ["first listings covered", f"{c.first_listing_from or NA} to {c.first_listing_to or NA}"],
        ["projects (relistings merged)", fmt_count(c.projects)],
        [
            "projects without a first-listing date (in no quarter)",
            fmt_count(c.projects_without_quarter),
        ],
        ["listing announcements (incl. relistings)", fmt_count(c.listing_announcements)],
        ["of which relistings (重新挂牌)", fmt_count(c.relisting_announcements)],
        ["result announcements", fmt_count(c.result_announcements)],
        ["documents crawled", counts(c.documents)],
        ["parse failures", counts(c.parse_failures)],
        [
            "quarantined listing rows",
            NA + " (no raw.listing_quarantine table)"
            if c.quarantined_listings is None
            else fmt_count(c.quarantined_listings),
        ],
    ]
    q = c.quarter_listings
    if q is not None:
        rows.append(
            [
                f"listing documents indexed in {report.quarter}",
                f"{fmt_count(q.stored)} stored: {fmt_count(q.parsed)} in these figures, "
                f"{fmt_count(q.quarantined)} held back by quality checks, "
                f"{fmt_count(q.failed)} failed to parse",
            ]
        )
    return Section(
        anchor="methods",
        title="Methods and coverage",
        paragraphs=[
            "Listed (挂牌) is not traded (成交): every figure here is what sellers put up for "
            "sale in listing announcements (转让公告); a project counts as sold once a result "
            "announcement (转让结果公告) names a buyer, and later quarters' sold counts still grow "
            "as results are published. The sale price is not public.",
            "A project belongs to the quarter of its first listing (as Yindeng's own "
            "statistics count). Relistings (重新挂牌) are merged into their project and counted "
            "once; the project carries its latest listed figures.",
            "Every number comes from the marts seller_quarterly_metrics, "
            "market_quarterly_metrics, buyer_league and projects: sums of their rows, and "
            "ratios from summed numerators and denominators. Amounts are in 亿元 "
            "(100 million yuan), rounded to two decimals for display.",
            *_coverage_note(report.quarter, q),
        ],
        tables=[Table(["coverage", "value"], rows, [False, False])],
    )


def open_now_section(report: QuarterReport) -> Section | None:
    """A short box for buyers on the current quarter's page: what can still be registered for."""
    box = report.open_now
    if box is None:
        return None
    when = box.as_of.strftime("%Y-%m-%d %H:%M")
    paragraphs = [
        f"As of {when} (Beijing time): {fmt_count(box.open_projects)} project(s) open for "
        f"registration, {fmt_yi(box.open_unpaid_total_yuan)} 亿元 unpaid in total; "
        f"{fmt_count(box.undecided_projects)} more closed for registration and still undecided "
        "(auction pending or awaiting its result). `npl open` lists them with filters."
    ]
    tables = []
    if box.soonest:
        rows = [
            [
                p.registration_deadline.strftime("%Y-%m-%d %H:%M")
                if p.registration_deadline
                else "n/a",
                fmt_count(p.days_left),
                p.project_name,
                fmt_yi(p.unpaid_total_yuan),
            ]
            for p in box.soonest
        ]
        tables.append(
            Table(
                ["registration deadline", "days left", "project", "unpaid total (亿元)"],
                rows,
                [False, True, False, True],
            )
        )
    return Section("open-now", "Open now (可报名项目)", paragraphs=paragraphs, tables=tables)


def report_sections(report: QuarterReport) -> list[Section]:
    box = open_now_section(report)
    return [
        *([box] if box else []),
        headline_section(report),
        trend_section(report),
        *breakdown_sections(report),
        *top_sections(report),
        starting_price_section(report),
        overdue_section(report),
        methods_section(report),
    ]


def report_title(quarter: str) -> str:
    return f"Yindeng NPL transfers: market report {quarter} (银登中心不良贷款转让季度报告)"


# ---- markdown ---------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_markdown(table: Table) -> str:
    align = ["---:" if n else ":---" for n in table.numeric]
    lines = [
        "| " + " | ".join(_md_cell(h) for h in table.headers) + " |",
        "| " + " | ".join(align) + " |",
    ]
    rows = table.rows + ([[f"**{c}**" for c in table.footer]] if table.footer else [])
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(report: QuarterReport) -> str:
    parts = [f"# {report_title(report.quarter)}"]
    for section in report_sections(report):
        parts.append(f"## {section.title}")
        parts.extend(section.paragraphs)
        parts.extend(table_markdown(t) for t in section.tables)
    parts.append("_Charts: see the HTML report._")
    return "\n\n".join(parts) + "\n"


# ---- HTML -------------------------------------------------------------------------------------

CSS = """
body{font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei','PingFang SC','Microsoft YaHei',
 -apple-system,'Segoe UI',Roboto,sans-serif;color:#222;margin:0;background:#f6f7f9;
 font-size:14px;line-height:1.5}
main{max-width:1160px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 8px;
 border-bottom:2px solid #2f5d8a;padding-bottom:4px}
nav{font-size:13px;margin-bottom:12px}nav a{margin-right:14px;color:#2f5d8a}
p{margin:6px 0;max-width:900px}.muted{color:#666}
.cards{display:flex;gap:14px;flex-wrap:wrap;margin:12px 0}
.card{flex:1 1 220px;border:1px solid #d8dde3;border-radius:6px;padding:12px 14px;
 background:#fbfcfd}.card .label{font-size:12px;color:#555;text-transform:uppercase}
.card .value{font-size:24px;font-weight:700;margin:2px 0}.card .change{font-size:12px;color:#555}
table{border-collapse:collapse;margin:10px 0 14px;font-size:13px}
th,td{border-bottom:1px solid #e3e6ea;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#eef2f6;font-weight:600}td.num,th.num{text-align:right;
 font-variant-numeric:tabular-nums;white-space:nowrap}tfoot td{font-weight:700;
 border-top:2px solid #c9d0d8}
.blocks{display:flex;flex-wrap:wrap;gap:8px 32px;align-items:flex-start}
.chart-box{margin:10px 0}svg.chart{max-width:100%;height:auto}
.headline-table{display:none}
@media print{body{background:#fff}main{padding:0}}
"""


def table_html(table: Table, css_class: str = "") -> str:
    def cells(values: list[str], tag: str) -> str:
        return "".join(
            f"<{tag}{' class=num' if num else ''}>{escape(v)}</{tag}>"
            for v, num in zip(values, table.numeric, strict=True)
        )

    head = f"<thead><tr>{cells(table.headers, 'th')}</tr></thead>"
    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in table.rows)
    foot = f"<tfoot><tr>{cells(table.footer, 'td')}</tr></tfoot>" if table.footer else ""
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}>{head}<tbody>{body}</tbody>{foot}</table>"


def section_html(section: Section) -> str:
    parts = [f'<section id="{section.anchor}"><h2>{escape(section.title)}</h2>']
    parts += [f"<p>{escape(p)}</p>" for p in section.paragraphs]
    if section.cards:
        parts.append('<div class="cards">')
        for card in section.cards:
            changes = "".join(f'<div class="change">{escape(c)}</div>' for c in card.changes)
            parts.append(
                f'<div class="card"><div class="label">{escape(card.label)}</div>'
                f'<div class="value">{escape(card.value)}</div>{changes}</div>'
            )
        parts.append("</div>")
    # The headline table repeats the cards for markdown and screen readers; cards show it.
    css_class = "headline-table" if section.cards else ""
    blocks = [table_html(t, css_class) for t in section.tables]
    blocks += [f'<div class="chart-box">{svg}</div>' for svg in section.charts]
    parts.append('<div class="blocks">' + "".join(blocks) + "</div></section>")
    return "".join(parts)


def page_html(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def to_html(report: QuarterReport, quarters: Sequence[str] = ()) -> str:
    """The quarter's page; `quarters` (all quarters with a page) gives the navigation links,
    which are relative so that the folder can be moved or zipped as a whole."""
    nav = ['<nav><a href="index.html">all quarters</a>']
    known = sorted(quarters)
    if report.quarter in known:
        i = known.index(report.quarter)
        if i > 0:
            nav.append(f'<a href="{known[i - 1]}.html">← {known[i - 1]}</a>')
        if i + 1 < len(known):
            nav.append(f'<a href="{known[i + 1]}.html">{known[i + 1]} →</a>')
    nav.append("</nav>")
    sections = report_sections(report)
    toc = " · ".join(f'<a href="#{s.anchor}">{escape(s.title)}</a>' for s in sections)
    body = (
        "".join(nav)
        + f"<h1>{escape(report_title(report.quarter))}</h1>"
        + f'<p class="muted">{toc}</p>'
        + "".join(section_html(s) for s in sections)
    )
    return page_html(report_title(report.quarter), body)


@dataclass(frozen=True)
class IndexEntry:
    quarter: str
    listings: int
    unpaid_total_yuan: Decimal
    sold_listings: int


def index_html(entries: Sequence[IndexEntry]) -> str:
    table = Table(
        headers=["quarter", "listings", "unpaid total listed (亿元)", "sold"],
        rows=[
            [
                e.quarter,
                fmt_count(e.listings),
                fmt_yi(e.unpaid_total_yuan),
                fmt_count(e.sold_listings),
            ]
            for e in sorted(entries, key=lambda e: e.quarter, reverse=True)
        ],
        numeric=[False, True, True, True],
    )
    rows_html = table_html(table)
    # Link each quarter cell to its page.
    for e in entries:
        rows_html = rows_html.replace(
            f"<td>{e.quarter}</td>", f'<td><a href="{e.quarter}.html">{e.quarter}</a></td>', 1
        )
    title = "Yindeng NPL transfers: quarterly market reports (银登中心不良贷款转让季度报告)"
    body = (
        f"<h1>{escape(title)}</h1>"
        "<p>One page per quarter of first listing (挂牌); figures are listed amounts, not sale "
        "prices.</p>" + rows_html
    )
    return page_html(title, body)

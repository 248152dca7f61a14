"""The market chart shown in the UI: quarterly unpaid total (未偿本息) listed, by seller type.

matplotlib is imported inside the functions, with the Agg backend, so that loading the code
location (webserver, daemon, every run) does not pay for it."""

import base64
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model
from dagster_duckdb import DuckDBResource

from npl_assets.assets.conditions import downstream_condition
from npl_assets.assets.transform import npl_dbt_models
from npl_assets.locations import DataPaths

YUAN_PER_YI = Decimal(100_000_000)  # 亿元
# Used only when no font with Chinese glyphs is installed (matplotlib would draw empty boxes).
SELLER_TYPE_LABELS = {
    "国有大行": "State-owned banks",
    "股份行": "Joint-stock banks",
    "城商行": "City commercial banks",
    "农商行/农信": "Rural banks / credit co-ops",
    "消费金融公司": "Consumer finance companies",
    "未分类": "Unclassified sellers",
}
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Droid Sans Fallback",
)


@dataclass(frozen=True)
class QuarterlySeries:
    quarters: list[str]
    # seller type -> unpaid total in 亿元 per quarter (0 where the type listed nothing)
    by_type: dict[str, list[Decimal]]

    def total(self, quarter: str) -> Decimal:
        index = self.quarters.index(quarter)
        return sum((values[index] for values in self.by_type.values()), Decimal(0))


def quarterly_series(rows: Iterable[tuple[str, str, Decimal | None]]) -> QuarterlySeries:
    """(quarter, seller type, unpaid total in 元) rows -> one series per type, in 亿元.
    Several rows of the same quarter and type (one per asset type) are added up; a null
    total adds nothing, a null quarter or type is an error."""
    sums: dict[tuple[str, str], Decimal] = {}
    for quarter, seller_type, total in rows:
        if not quarter or not seller_type:
            raise ValueError(
                f"market row without quarter or seller type: {quarter!r}, {seller_type!r}"
            )
        key = (quarter, seller_type)
        sums[key] = sums.get(key, Decimal(0)) + (Decimal(total) if total is not None else 0)
    quarters = sorted({q for q, _ in sums})
    types = sorted({t for _, t in sums}, key=lambda t: (t == "未分类", t))
    by_type = {t: [sums.get((q, t), Decimal(0)) / YUAN_PER_YI for q in quarters] for t in types}
    return QuarterlySeries(quarters, by_type)


# File names of CJK font files, for fonts installed after matplotlib built its font cache.
CJK_FONT_FILES = ("wqy", "notosanscjk", "notoserifcjk", "sourcehansans", "droidsansfallback")


def cjk_font() -> str | None:
    """The first installed font that has Chinese glyphs, if any. matplotlib caches the system
    fonts once, so a CJK font installed later is looked up by file name and added."""
    from matplotlib import font_manager

    def known() -> str | None:
        installed = {font.name for font in font_manager.fontManager.ttflist}
        return next((name for name in CJK_FONTS if name in installed), None)

    if found := known():
        return found
    for path in font_manager.findSystemFonts():
        if any(tag in Path(path).name.lower().replace("-", "") for tag in CJK_FONT_FILES):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue  # an unreadable font file: the English labels still work
    return known()


def render_png(series: QuarterlySeries, path: Path) -> Path:
    """A stacked bar chart of the series, written to `path` (parent folders created)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # WenQuanYi has no "normal" weight; matplotlib says so on every text it draws.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    font = cjk_font()
    label = (lambda t: t) if font else (lambda t: SELLER_TYPE_LABELS.get(t, t))
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(
        {"font.sans-serif": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}
    ):
        fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
        try:
            bottom = [0.0] * len(series.quarters)
            for seller_type, values in series.by_type.items():
                heights = [float(v) for v in values]
                ax.bar(series.quarters, heights, bottom=bottom, label=label(seller_type))
                bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
            ax.set_title("Unpaid principal + interest listed per quarter, by seller type")
            ax.set_ylabel("100 million yuan (亿元)" if font else "100 million yuan")
            ax.set_xlabel("quarter of first listing")
            ax.tick_params(axis="x", labelrotation=45 if len(series.quarters) > 8 else 0)
            if series.by_type:
                # Legend from top to bottom, as the bars are stacked.
                handles, labels = ax.get_legend_handles_labels()
                ax.legend(
                    handles[::-1],
                    labels[::-1],
                    fontsize=8,
                    loc="upper left",
                    bbox_to_anchor=(1.01, 1),
                    frameon=False,
                )
            else:
                ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            ax.grid(axis="y", alpha=0.3)
            fig.tight_layout()
            fig.savefig(path, format="png")
        finally:
            plt.close(fig)
    return path


def series_markdown(series: QuarterlySeries) -> str:
    """The figures behind the chart, as a markdown table (亿元, two decimals)."""
    types: Sequence[str] = list(series.by_type)
    header = "| quarter | " + " | ".join(types) + " | total |"
    rule = "|---|" + "---:|" * (len(types) + 1)
    lines = [header, rule]
    for i, quarter in enumerate(series.quarters):
        cells = [f"{series.by_type[t][i]:.2f}" for t in types]
        lines.append(f"| {quarter} | " + " | ".join(cells) + f" | {series.total(quarter):.2f} |")
    return "\n".join(lines)


MARKET_MODEL_KEY = get_asset_key_for_model([npl_dbt_models], "market_quarterly_metrics")


@dg.asset(
    group_name="serving",
    kinds={"python", "duckdb"},
    deps=[MARKET_MODEL_KEY],
    pool="duckdb",
    automation_condition=downstream_condition(),
)
def market_chart(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: DataPaths
) -> dg.MaterializeResult:
    """Quarterly unpaid total (未偿本息, 亿元) listed on Yindeng, stacked by seller type, from
    market_quarterly_metrics; written to `data/reports/market_quarterly.png` and shown here."""
    with duckdb.get_connection() as con:
        rows = con.execute(
            """select quarter, seller_type, sum(unpaid_total_yuan)
               from main.market_quarterly_metrics
               group by quarter, seller_type"""
        ).fetchall()
    series = quarterly_series(rows)
    path = render_png(series, paths.reports_dir() / "market_quarterly.png")
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    context.log.info("wrote %s (%d quarters)", path, len(series.quarters))
    return dg.MaterializeResult(
        metadata={
            "chart": dg.MetadataValue.md(
                f"![quarterly unpaid total by seller type](data:image/png;base64,{encoded})\n\n"
                + series_markdown(series)
            ),
            "path": dg.MetadataValue.path(str(path)),
            "quarters": len(series.quarters),
            "seller_types": len(series.by_type),
        }
    )

"""The market chart: figures per quarter and seller type, a PNG on disk and inline in the UI."""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from npl_assets.assets.market_chart import (
    market_chart,
    quarterly_series,
    render_png,
    series_markdown,
)
from npl_assets.resources import Locations, platform_resources

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# (quarter, seller_type, asset_type, unpaid_total_yuan) as market_quarterly_metrics has them
MARKET_ROWS = [
    ("2023Q1", "国有大行", "信用卡透支", "120000000.00"),
    ("2023Q1", "国有大行", "个人消费贷款", "30000000.00"),
    ("2023Q1", "消费金融公司", "个人消费贷款", "250000000.50"),
    ("2023Q2", "股份行", "信用卡透支", "80000000.00"),
    ("2023Q2", "未分类", "未分类", None),
]


def test_series_adds_asset_types_and_converts_to_yi() -> None:
    rows = [(q, t, Decimal(v) if v else None) for q, t, _, v in MARKET_ROWS]
    series = quarterly_series(rows)
    assert series.quarters == ["2023Q1", "2023Q2"]
    # 1.2亿 + 0.3亿 of the big banks in Q1; nothing of theirs in Q2
    assert series.by_type["国有大行"] == [Decimal("1.5"), Decimal(0)]
    assert series.by_type["消费金融公司"] == [Decimal("2.5000000050"), Decimal(0)]
    assert series.by_type["未分类"] == [Decimal(0), Decimal(0)]
    assert list(series.by_type)[-1] == "未分类"  # unclassified sellers stack last
    assert series.total("2023Q1") == Decimal("4.0000000050")


def test_series_rejects_rows_without_quarter() -> None:
    with pytest.raises(ValueError, match="without quarter"):
        quarterly_series([(None, "股份行", Decimal(1))])


def test_markdown_table_has_one_line_per_quarter() -> None:
    series = quarterly_series([(q, t, Decimal(v) if v else None) for q, t, _, v in MARKET_ROWS])
    lines = series_markdown(series).splitlines()
    assert lines[0] == "| quarter | 国有大行 | 消费金融公司 | 股份行 | 未分类 | total |"
    assert lines[2] == "| 2023Q1 | 1.50 | 2.50 | 0.00 | 0.00 | 4.00 |"
    assert lines[3] == "| 2023Q2 | 0.00 | 0.00 | 0.80 | 0.00 | 0.80 |"


def test_render_png_writes_a_png(tmp_path: Path) -> None:
    series = quarterly_series([("2024Q1", "城商行", Decimal("100000000"))])
    path = render_png(series, tmp_path / "nested" / "chart.png")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 5_000


def test_render_png_of_no_data_still_draws(tmp_path: Path) -> None:
    path = render_png(quarterly_series([]), tmp_path / "empty.png")
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_market_chart_asset_reads_the_mart_and_inlines_the_png(isolated_env: Path) -> None:
    db = isolated_env / "npl.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        """create table main.market_quarterly_metrics (
               quarter varchar, seller_type varchar, asset_type varchar,
               unpaid_total_yuan decimal(18,2))"""
    )
    con.executemany("insert into main.market_quarterly_metrics values (?, ?, ?, ?)", MARKET_ROWS)
    con.close()

    result = dg.materialize(
        [market_chart], resources=platform_resources(Locations.under(isolated_env))
    )
    metadata = result.asset_materializations_for_node("market_chart")[0].metadata
    png = isolated_env / "reports" / "market_quarterly.png"
    assert metadata["path"].value == str(png)
    assert metadata["quarters"].value == 2
    assert metadata["seller_types"].value == 4
    markdown = metadata["chart"].value
    prefix = "![quarterly unpaid total by seller type](data:image/png;base64,"
    assert markdown.startswith(prefix)
    encoded = markdown[len(prefix) : markdown.index(")")]
    assert base64.b64decode(encoded) == png.read_bytes()
    assert "| 2023Q1 | 1.50 | 2.50 | 0.00 | 0.00 | 4.00 |" in markdown


def test_matplotlib_is_not_imported_with_the_definitions(dbt_manifest: Path) -> None:
    import subprocess
    import sys

    from npl_assets.settings import PROJECT_ROOT

    code = "import sys, npl_assets.definitions; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"

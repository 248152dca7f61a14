"""The report as a browser sees it: headless Chromium loads the page from file:// and the
rendered DOM holds the tables and charts. Skipped, with the reason, where Chromium is missing."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from npl_assets.report.build import build_reports
from npl_assets.sql import connect_serving
from npl_assets_tests.test_report_unit import make_marts

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def require_chromium() -> str:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("headless Chromium not installed (Debian: apt-get install -y chromium)")
    return binary


def warn_without_cjk_font() -> None:
    """Chinese text renders as empty boxes without a CJK font; the DOM checks cannot see that."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return
    fonts = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True).stdout
    if not fonts.strip():
        warnings.warn(
            "no font with Chinese glyphs: screenshots show boxes for Chinese text "
            "(Debian: apt-get install -y fonts-wqy-zenhei, or fonts-noto-cjk)",
            stacklevel=2,
        )


def run_chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    binary = require_chromium()
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def dump_dom(page: Path, profile: Path) -> str:
    return run_chromium(page, profile, "--dump-dom").stdout


def screenshot(page: Path, profile: Path, png: Path) -> Path:
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    run_chromium(page, profile, f"--screenshot={png}", "--window-size=1280,2000")
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return png


def test_chromium_renders_tables_and_charts(tmp_path: Path) -> None:
    require_chromium()
    serving = tmp_path / "serving.duckdb"
    make_marts(serving)
    con = connect_serving(serving)
    try:
        build_reports(con, tmp_path / "reports")
    finally:
        con.close()
    page = tmp_path / "reports" / "2023Q4.html"
    dom = dump_dom(page, tmp_path / "profile")
    assert dom.count("<svg") >= 5
    assert dom.count("<table") >= 9
    assert "market report 2023Q4" in dom
    assert "消费金融公司" in dom
    index = dump_dom(tmp_path / "reports" / "index.html", tmp_path / "profile")
    assert index.count('href="20') == 4
    png = screenshot(page, tmp_path / "profile", tmp_path / "2023Q4.png")
    # a blank page compresses to a few kilobytes; a rendered report does not
    assert png.stat().st_size > 50_000
    warn_without_cjk_font()

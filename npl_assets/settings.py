"""Where things live. Every path can be overridden by an environment variable, so tests and CI
point the whole platform at temporary folders without touching the checkout."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REAL_SITE_URL = "https://www.yindeng.com.cn"


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser().resolve() if value else default


def shared_dir() -> Path:
    """The read-only shared folder with the real 2023 dataset and the sample PDFs."""
    return _path("NPL_SHARED_DIR", PROJECT_ROOT.parent / "shared")


def data_dir() -> Path:
    return _path("NPL_DATA_DIR", PROJECT_ROOT / "data")


def site_dir() -> Path:
    """The built bundled site (generated, gitignored)."""
    return _path("NPL_SITE_DIR", data_dir() / "site")


def raw_dir() -> Path:
    """The content-addressed PDF store (sha256 names)."""
    return _path("NPL_RAW_DIR", data_dir() / "raw")


def duckdb_path() -> Path:
    """The warehouse: one file, written by one process at a time."""
    return _path("DUCKDB_DATABASE", data_dir() / "npl.duckdb")


def serving_path() -> Path:
    """The published copy of the marts that readers query while the next run writes."""
    return _path("NPL_SERVING_DATABASE", data_dir() / "npl_serving.duckdb")


def source_url() -> str | None:
    """The site to crawl; None means the bundled site served on loopback."""
    return os.environ.get("NPL_SOURCE_URL") or None

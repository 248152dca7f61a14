"""The built sites the scenarios crawl, and what each one published (its manifest)."""

from __future__ import annotations

import json
from pathlib import Path

from npl_assets import settings


def load_manifest(site: Path) -> list[dict]:
    """What the built site published: one entry per document (doc_type, paths, sha256)."""
    return json.loads((site / "manifest.json").read_text(encoding="utf-8"))["documents"]


def build_site(out: Path, synthetic: int | None, shared: Path | None = None, seed: int = 0) -> Path:
    """Build a site once: the real 2023 data (`synthetic=None`) or N synthetic listings."""
    from npl_assets.site.build import build_site as build

    if not (out / "manifest.json").is_file():
        build(out, shared_dir=shared or settings.shared_dir(), synthetic=synthetic, seed=seed)
    return out

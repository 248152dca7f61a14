"""The sites the benchmark crawls: a cached synthetic site (keyed by size and seed) and the
bundled 2023 site, plus a writable copy of either in which the newest listing is held back from
page 1 of its index until the freshness measurement publishes it.

The cache lives under `data/bench/site/`; a copy is made of hard links (falling back to copies
across file systems), and every file the benchmark changes is replaced, never written through a
link, so the cache is never modified."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from npl_assets import settings

LISTING_INDEX = "xxpl/xxpl_bldkzr/bldkzr_zrgg/index.html"
LIST_ITEM = re.compile(r'<li><div class="rightListContent list-item">.*?</li>', re.S)
ITEM_HREF = re.compile(r'href="\./([^"]+)"')
ITEM_COUNT = re.compile(r"共(\d+)条")


class SiteLayoutError(ValueError):
    """The site's index page does not have the markup the benchmark edits."""


@dataclass(frozen=True)
class BuiltSite:
    root: Path
    listings: int
    results: int
    pdfs: int
    built_now: bool
    build_seconds: float  # 0 when taken from the cache


@dataclass(frozen=True)
class HeldBackListing:
    """A listing taken off page 1 of the listing index; its detail page and PDF stay on disk."""

    site: Path
    sha256: str
    title: str
    detail_path: str
    published_html: str

    def publish(self) -> None:
        """Put the listing back on page 1, atomically: the server never serves a partial page."""
        _replace_text(self.site / LISTING_INDEX, self.published_html)


def bench_dir() -> Path:
    return settings.data_dir() / "bench"


def site_cache_dir() -> Path:
    return bench_dir() / "site"


def synthetic_key(listings: int, seed: int) -> str:
    return f"synthetic-{listings}-seed{seed}"


def _read_manifest(root: Path) -> dict | None:
    path = root / "manifest.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _summary(root: Path, manifest: dict, built_now: bool, seconds: float) -> BuiltSite:
    counts = manifest["counts"]
    return BuiltSite(
        root, counts["listings"], counts["results"], counts["pdfs"], built_now, round(seconds, 1)
    )


def synthetic_site(
    listings: int, seed: int, workers: int | None = None, rebuild: bool = False
) -> BuiltSite:
    """A synthetic site of `listings` listings (results follow for about 40% of them), built
    once per size and seed."""
    from npl_assets.site.build import build_site

    if listings < 1:
        raise ValueError(f"a benchmark site needs at least one listing, got {listings}")
    root = site_cache_dir() / synthetic_key(listings, seed)
    manifest = _read_manifest(root)
    if (
        manifest is not None
        and not rebuild
        and manifest.get("synthetic")
        and manifest.get("seed") == seed
        and manifest["counts"]["listings"] == listings
    ):
        return _summary(root, manifest, False, 0.0)
    started = time.perf_counter()
    build_site(root, synthetic=listings, seed=seed, workers=workers or os.cpu_count())
    return _summary(root, _read_manifest(root) or {}, True, time.perf_counter() - started)


def bundled_site(rebuild: bool = False) -> BuiltSite:
    """The bundled site of the real 2023 dataset (606 PDFs), as `make run` crawls it."""
    from npl_assets.site.build import build_site

    root = site_cache_dir() / "bundled-2023"
    manifest = _read_manifest(root)
    if manifest is not None and not rebuild and not manifest.get("synthetic"):
        return _summary(root, manifest, False, 0.0)
    started = time.perf_counter()
    build_site(root, shared_dir=settings.shared_dir())
    return _summary(root, _read_manifest(root) or {}, True, time.perf_counter() - started)


def linked_copy(site: Path, dest: Path) -> Path:
    """A copy of `site` at `dest` made of hard links (cheap even for 28,000 PDFs)."""
    if dest.exists():
        shutil.rmtree(dest)

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(site, dest, copy_function=link)
    return dest


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".bench-tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def hold_back_newest_listing(site: Path) -> HeldBackListing:
    """Take the newest listing off page 1 of the listing index of the (copied) `site` and
    lower the item count to match, as if it were not published yet."""
    manifest = _read_manifest(site)
    if manifest is None:
        raise FileNotFoundError(f"no bundled site at {site} (missing manifest.json)")
    index = site / LISTING_INDEX
    published = index.read_text(encoding="utf-8")
    item = LIST_ITEM.search(published)
    total = ITEM_COUNT.search(published)
    if item is None or total is None:
        raise SiteLayoutError(f"{index}: no list item or no 共N条 count to edit")
    href = ITEM_HREF.search(item.group(0))
    if href is None:
        raise SiteLayoutError(f"{index}: the first list item has no ./relative link")
    detail_path = f"/{LISTING_INDEX.rsplit('/', 1)[0]}/{href.group(1)}"
    by_path = {d["detail_path"]: d for d in manifest["documents"]}
    if detail_path not in by_path:
        raise SiteLayoutError(f"{index}: first item links {detail_path}, not in the manifest")
    doc = by_path[detail_path]
    count = int(total.group(1))
    held_back = ITEM_COUNT.sub(f"共{count - 1}条", published.replace(item.group(0), "", 1), 1)
    _replace_text(index, held_back)
    return HeldBackListing(site, doc["sha256"], doc["title"], detail_path, published)

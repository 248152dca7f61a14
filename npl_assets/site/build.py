"""Build the bundled site into a folder: PDFs, detail pages, both indexes, robots.txt and a
manifest.json listing every document. The build goes to a temporary sibling folder that then
replaces the target, so a half-built site is never visible."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

from npl_assets.site import pages
from npl_assets.site.layout import SECTION_DIRS, DocType, page_filename, paginate, total_pages
from npl_assets.site.source import Document, load_documents, make_documents, newest_first

MANIFEST = "manifest.json"
# Below this many PDFs a process pool costs more than it saves (start-up, font registration).
# Measured on 2 cores with bytecode cached: 82 PDFs 1.8 s either way, 207 PDFs 4.3 s -> 2.7 s,
# the 606 of the 2023 site 13.5 s -> 7.1 s.
POOL_THRESHOLD = 100


def build_site(
    out_dir: Path,
    shared_dir: Path | None = None,
    synthetic: int | None = None,
    seed: int = 0,
    workers: int | None = None,
) -> dict:
    """Build the site into `out_dir` and return a summary (counts, pages, seconds).

    With `synthetic=None` the documents are the real 2023 dataset under `shared_dir/data` (and
    the two real sample PDFs); a missing dataset raises `SiteDataMissing`. With `synthetic=N`,
    N seeded synthetic listings and their results. `workers` > 1 renders PDFs in a process
    pool; None picks one per CPU for large builds."""
    started = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    if synthetic is None:
        docs = load_documents(shared_dir)
    else:
        from npl_assets.site.synthetic import synthetic_rows

        listing_rows, result_rows = synthetic_rows(synthetic, seed)
        docs = make_documents(listing_rows, result_rows, synthetic=True)
    is_synthetic = synthetic is not None
    _check_unique_paths(docs)

    staging = _staging_dir(out_dir)
    try:
        hashes = _write_pdfs(staging, docs, _pool_size(workers, len(docs)))
        page_counts = _write_html(staging, docs, is_synthetic)
        (staging / "robots.txt").write_text(pages.ROBOTS_TXT, encoding="utf-8")
        counts = {
            "listings": sum(d.doc_type == "listing" for d in docs),
            "results": sum(d.doc_type == "result" for d in docs),
            "pdfs": len(docs),
            "real_samples": sum(d.real_pdf is not None for d in docs),
        }
        manifest = {
            "synthetic": is_synthetic,
            "seed": seed if is_synthetic else None,
            "counts": counts,
            "pages": page_counts,
            "documents": [
                _manifest_entry(d, hashes[d.key])
                for d in sorted(docs, key=lambda d: (d.doc_type, d.serial))
            ],
        }
        (staging / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        _replace(out_dir, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {
        **counts,
        "listing_pages": page_counts["listing"],
        "result_pages": page_counts["result"],
        "synthetic": is_synthetic,
        "out_dir": str(out_dir),
        "seconds": round(time.perf_counter() - started, 2),
    }


def read_manifest(site_dir: Path) -> dict:
    """The manifest of a built site, or FileNotFoundError saying the site is not built."""
    path = Path(site_dir) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"no bundled site at {site_dir} (missing {MANIFEST})")
    return json.loads(path.read_text(encoding="utf-8"))


def _manifest_entry(doc: Document, sha256: str) -> dict:
    return {
        "doc_type": doc.doc_type,
        "serial": doc.serial,
        "title": doc.title,
        "list_date": doc.publication.isoformat(),
        "detail_path": doc.detail_path,
        "pdf_path": doc.pdf_path,
        "sha256": sha256,
        "is_real_sample": doc.real_pdf is not None,
        "synthetic": doc.synthetic,
    }


def _check_unique_paths(docs: list[Document]) -> None:
    seen: dict[str, str] = {}
    for doc in docs:
        for path in (doc.detail_path, doc.pdf_path):
            if path in seen:
                raise ValueError(f"{doc.key} and {seen[path]} would both be published at {path}")
            seen[path] = doc.key


def _pool_size(workers: int | None, n_docs: int) -> int:
    if workers is not None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        return workers
    return (os.cpu_count() or 1) if n_docs >= POOL_THRESHOLD else 1


def _staging_dir(out_dir: Path) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"site output {out_dir} exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        # Never wipe a folder that is not a bundled site.
        raise FileExistsError(f"{out_dir} is not empty and holds no bundled site ({MANIFEST})")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def _replace(out_dir: Path, staging: Path) -> None:
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        out_dir.rename(old)
        staging.rename(out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out_dir)


# One task per PDF: (key, absolute target, doc type, row, publication, synthetic, real PDF).
_Task = tuple[str, str, str, dict[str, str], date, bool, str | None]


def _render_task(task: _Task) -> tuple[str, str]:
    key, target, doc_type, row, publication, synthetic, real_pdf = task
    if real_pdf is not None:
        data = Path(real_pdf).read_bytes()
    else:
        from npl_assets.site.pdfs import render_document

        data = render_document(doc_type, row, publication, synthetic)
    Path(target).write_bytes(data)
    return key, hashlib.sha256(data).hexdigest()


def _write_pdfs(root: Path, docs: list[Document], workers: int) -> dict[str, str]:
    tasks: list[_Task] = []
    for doc in docs:
        (root / doc.folder).mkdir(parents=True, exist_ok=True)
        tasks.append(
            (
                doc.key,
                str(root / doc.folder / doc.pdf_file),
                doc.doc_type,
                doc.row,
                doc.publication,
                doc.synthetic,
                str(doc.real_pdf) if doc.real_pdf else None,
            )
        )
    if workers <= 1:
        return dict(map(_render_task, tasks))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(_render_task, tasks, chunksize=64))


def _write_html(root: Path, docs: list[Document], synthetic: bool) -> dict[DocType, int]:
    page_counts: dict[DocType, int] = {}
    item_counts: dict[DocType, int] = {}
    doc_types: tuple[DocType, ...] = ("listing", "result")
    for doc_type in doc_types:
        section_docs = newest_first([d for d in docs if d.doc_type == doc_type])
        item_counts[doc_type] = len(section_docs)
        section = root / SECTION_DIRS[doc_type]
        section.mkdir(parents=True, exist_ok=True)
        chunks = paginate(section_docs)
        n_pages = total_pages(len(section_docs))
        for page, items in enumerate(chunks, 1):
            html = pages.index_page(doc_type, items, page, n_pages, len(section_docs), synthetic)
            (section / page_filename(page, n_pages)).write_text(html, encoding="utf-8")
        for doc in section_docs:
            (root / doc.folder / doc.detail_file).write_text(
                pages.detail_page(doc), encoding="utf-8"
            )
        page_counts[doc_type] = n_pages
    (root / "index.html").write_text(pages.home_page(item_counts, synthetic), encoding="utf-8")
    return page_counts

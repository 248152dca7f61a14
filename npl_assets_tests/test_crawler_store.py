"""The content-addressed PDF store: sha256 names, atomic writes, and what it refuses."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from npl_assets.crawler.store import ContentStore, InvalidPdf, check_pdf, pdf_problem

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_put_names_the_file_by_its_sha256(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    sha = store.put(PDF)
    expected = hashlib.sha256(PDF).hexdigest()
    assert sha == expected
    assert store.path(sha) == tmp_path / expected[:2] / f"{expected}.pdf"
    assert store.path(sha).read_bytes() == PDF
    assert store.has(sha) and store.verify(sha)
    assert files(tmp_path) == [f"{expected[:2]}/{expected}.pdf"]


def test_put_of_a_stored_pdf_leaves_the_file_alone(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    sha = store.put(PDF)
    before = store.path(sha).stat()
    assert store.put(PDF, content_length=len(PDF)) == sha
    after = store.path(sha).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_failed_write_leaves_no_file_behind(tmp_path: Path, monkeypatch) -> None:
    store = ContentStore(tmp_path)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put(PDF)
    assert not store.has(hashlib.sha256(PDF).hexdigest())
    assert files(tmp_path) == []  # no temp file either


def test_the_final_name_appears_only_complete(tmp_path: Path, monkeypatch) -> None:
    """Until the rename, the content sits under a temporary name in the same folder."""
    store = ContentStore(tmp_path)
    seen: list[tuple[str, bytes, bool]] = []
    real_replace = os.replace

    def spying_replace(src: str, dst: str) -> None:
        seen.append((Path(src).name, Path(src).read_bytes(), Path(dst).exists()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spying_replace)
    sha = store.put(PDF)
    ((tmp_name, content, target_existed),) = seen
    assert tmp_name.startswith(".") and tmp_name.endswith(".part")
    assert content == PDF and not target_existed
    assert store.path(sha).read_bytes() == PDF


@pytest.mark.parametrize(
    ("body", "content_length", "message"),
    [
        (PDF[:-20], None, "truncated PDF: no %%EOF in the last 1024 bytes"),
        (
            PDF,
            len(PDF) + 100,
            f"got {len(PDF)} bytes but Content-Length announced {len(PDF) + 100}",
        ),
        (b"<!DOCTYPE html><html>404</html>", None, "not a PDF: body starts with"),
        (b"", None, "empty body"),
        (b"PK\x03\x04" + PDF, None, "not a PDF"),
    ],
)
def test_put_refuses_what_is_not_a_complete_pdf(
    tmp_path: Path, body: bytes, content_length: int | None, message: str
) -> None:
    store = ContentStore(tmp_path)
    with pytest.raises(InvalidPdf, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.put(body, content_length=content_length)
    assert files(tmp_path) == []


def test_size_limit(tmp_path: Path) -> None:
    store = ContentStore(tmp_path, max_bytes=len(PDF) - 1)
    with pytest.raises(InvalidPdf, match=f"{len(PDF)} bytes exceeds the limit of {len(PDF) - 1}"):
        store.put(PDF)
    assert pdf_problem(PDF, max_bytes=len(PDF)) is None


def test_eof_marker_must_be_near_the_end() -> None:
    # A cut that happens to leave an earlier %%EOF (an incremental update) far from the end.
    body = PDF + b"0" * 2000
    assert "no %%EOF in the last 1024 bytes" in pdf_problem(body)
    check_pdf(PDF + b"\n" * 10)  # trailing newlines are fine


@pytest.mark.parametrize("sha", ["../../etc/passwd", "ABC", "g" * 64, "A" * 64, ""])
def test_path_refuses_anything_but_a_sha256(tmp_path: Path, sha: str) -> None:
    with pytest.raises(ValueError, match="not a lower-case sha256"):
        ContentStore(tmp_path).path(sha)


def test_real_sample_pdfs_are_accepted(tmp_path: Path, samples_dir: Path) -> None:
    store = ContentStore(tmp_path)
    for pdf in sorted(samples_dir.glob("*.pdf")):
        data = pdf.read_bytes()
        assert store.put(data, content_length=len(data)) == hashlib.sha256(data).hexdigest()
    assert len(files(tmp_path)) == 2

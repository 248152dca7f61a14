"""The content-addressed PDF store: `root/ab/<sha256>.pdf`, where `ab` are the first two hex
digits. A file is written to a temporary name in its final folder and renamed into place, so a
reader never sees a partial file. File names come from the content, never from the server.

In the team profile the same layout lives on S3 (`s3://bucket/prefix/ab/<sha256>.pdf`,
S3ContentStore): an object PUT is whole or absent, and the body's MD5 goes with it so the server
refuses a body damaged on the way. `open_store(location)` picks the store from the location."""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
import tempfile
from pathlib import Path

from npl_assets.domain import MAX_PDF_BYTES as DEFAULT_MAX_PDF_BYTES

# PDF readers look for the trailer's %%EOF within the last 1024 bytes.
EOF_WINDOW = 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")


class InvalidPdf(ValueError):
    """A body that must not be stored; the message says why."""


def pdf_problem(
    data: bytes, content_length: int | None = None, max_bytes: int = DEFAULT_MAX_PDF_BYTES
) -> str | None:
    """Why `data` is not a complete PDF (None if it looks complete): empty, larger than
    `max_bytes`, not the announced Content-Length, no `%PDF-` header, or no `%%EOF` near the end
    (a truncated transfer)."""
    size = len(data)
    if size == 0:
        return "empty body"
    if size > max_bytes:
        return f"{size} bytes exceeds the limit of {max_bytes} bytes"
    if content_length is not None and size != content_length:
        return f"got {size} bytes but Content-Length announced {content_length}"
    if not data.startswith(b"%PDF-"):
        return f"not a PDF: body starts with {data[:8]!r}"
    if b"%%EOF" not in data[-EOF_WINDOW:]:
        return f"truncated PDF: no %%EOF in the last {EOF_WINDOW} bytes ({size} bytes received)"
    return None


def check_pdf(
    data: bytes, content_length: int | None = None, max_bytes: int = DEFAULT_MAX_PDF_BYTES
) -> None:
    problem = pdf_problem(data, content_length, max_bytes)
    if problem:
        raise InvalidPdf(problem)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ContentStore:
    """PDFs by sha256 under `root`."""

    def __init__(self, root: Path | str, max_bytes: int = DEFAULT_MAX_PDF_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path(self, sha: str) -> Path:
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise ValueError(f"not a lower-case sha256 hex digest: {sha!r}")
        return self.root / sha[:2] / f"{sha}.pdf"

    def has(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def put(self, data: bytes, content_length: int | None = None) -> str:
        """Validate and store `data`; returns its sha256. A file already in the store is left
        untouched (same name, same content)."""
        check_pdf(data, content_length, self.max_bytes)
        sha = sha256_hex(data)
        target = self.path(sha)
        if target.is_file() and target.stat().st_size == len(data):
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{sha[:12]}-", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return sha

    def get(self, sha: str) -> bytes:
        """The stored bytes; FileNotFoundError when absent."""
        return self.path(sha).read_bytes()

    def verify(self, sha: str) -> bool:
        """Whether the stored file exists and still hashes to its name."""
        path = self.path(sha)
        return path.is_file() and sha256_hex(path.read_bytes()) == sha


class S3ContentStore:
    """PDFs by sha256 under `s3://bucket/prefix/`, the same names as ContentStore."""

    def __init__(self, url: str, client, max_bytes: int = DEFAULT_MAX_PDF_BYTES) -> None:
        if not url.startswith("s3://"):
            raise ValueError(f"not an s3:// URL: {url!r}")
        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {url!r}")
        self.url = url
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client
        self.max_bytes = max_bytes

    def key(self, sha: str) -> str:
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise ValueError(f"not a lower-case sha256 hex digest: {sha!r}")
        name = f"{sha[:2]}/{sha}.pdf"
        return f"{self.prefix}/{name}" if self.prefix else name

    def _size(self, sha: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.key(sha))["ContentLength"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def has(self, sha: str) -> bool:
        return self._size(sha) is not None

    def put(self, data: bytes, content_length: int | None = None) -> str:
        check_pdf(data, content_length, self.max_bytes)
        sha = sha256_hex(data)
        if self._size(sha) == len(data):
            return sha
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.key(sha),
            Body=data,
            ContentMD5=md5,
            ContentType="application/pdf",
        )
        return sha

    def get(self, sha: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(sha))["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(f"{self.url}{self.key(sha)}") from None
            raise
        return body.read()

    def verify(self, sha: str) -> bool:
        try:
            return sha256_hex(self.get(sha)) == sha
        except FileNotFoundError:
            return False


@functools.cache
def open_store(
    location: str, max_bytes: int = DEFAULT_MAX_PDF_BYTES
) -> ContentStore | S3ContentStore:
    """The store at `location`: a folder, or `s3://bucket/prefix/` (the team profile's S3, with
    its endpoint and keys from npl_assets.profiles). Cached per process: a parse worker opens one
    S3 client, not one per document."""
    if location.startswith("s3://"):
        from npl_assets import profiles

        return S3ContentStore(location, profiles.s3_client(), max_bytes=max_bytes)
    return ContentStore(Path(location), max_bytes=max_bytes)


def store_location(location: Path | str) -> str:
    """A location in the form open_store takes: S3 URLs as they are, folders made absolute."""
    text = str(location)
    return text if text.startswith("s3://") else str(Path(text).resolve())

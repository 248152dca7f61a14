"""Bad input through the real parse path: mutated real and generated PDFs are put into a content
store and raw.documents, then the `listings` and `results` assets are materialised. Every
document must end as a parsed row or a typed row in raw.parse_failures, none of the
'Unexpected*' kind, and the materialisation itself must succeed.

Mutations: cuts at random places and just before %%EOF, byte flips (anywhere, and in the header),
zeroed and repeated spans, random bytes behind a PDF header, an HTML page saved as .pdf, an empty
file, a file over the size cap, an encrypted PDF and one without a text layer. The unmutated
originals are controls: they must parse."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from harness.reliability import invariants

# Must never parse, whatever the parser's leniency: nothing readable is left in them.
NEVER_PARSE = ("empty", "html", "oversize", "encrypted", "no-text", "junk", "header-flip")
HTML_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>404 页面不存在</title></head>"
    "<body><div class='news_info_box'>您访问的页面不存在</div></body></html>"
)


@dataclass(frozen=True)
class Base:
    name: str
    doc_type: str
    title: str
    data: bytes


@dataclass(frozen=True)
class FuzzCase:
    name: str
    kind: str
    doc_type: str
    title: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class FuzzResult:
    cases: int = 0
    documents: int = 0  # distinct contents
    parsed: int = 0
    failed: int = 0
    failure_types: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    untyped: int = 0
    problems: list[str] = field(default_factory=list)


def base_documents(site: Path, samples: Path | None, generated: int, seed: int = 0) -> list[Base]:
    """The real sample PDFs (if any) and `generated` PDFs of a built site, listings and results."""
    from harness.reliability.sites import load_manifest

    bases = []
    if samples is not None:
        for pdf in sorted(samples.glob("*.pdf")):
            doc_type = "result" if pdf.name.startswith("result") else "listing"
            bases.append(Base(pdf.stem, doc_type, pdf.stem, pdf.read_bytes()))
    documents = load_manifest(site)
    rng = random.Random(seed)
    listings = [d for d in documents if d["doc_type"] == "listing"]
    results = [d for d in documents if d["doc_type"] == "result"]
    wanted_results = min(len(results), max(1, generated // 3))
    picked = rng.sample(results, wanted_results) + rng.sample(
        listings, min(len(listings), generated - wanted_results)
    )
    for doc in picked:
        data = (site / doc["pdf_path"].lstrip("/")).read_bytes()
        bases.append(Base(Path(doc["pdf_path"]).stem, doc["doc_type"], doc["title"], data))
    return bases


def _reportlab_pdf(encrypt: str | None, text: bool) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, encrypt=encrypt, invariant=1)
    if text:
        pdf.drawString(60, 800, "Listing announcement, locked")
    else:
        pdf.rect(100, 100, 200, 200, fill=1)
    pdf.save()
    return buffer.getvalue()


def mutate(base: Base, rng: random.Random, per_base: int) -> Iterator[FuzzCase]:
    """The original and `per_base` random mutations of it."""
    data = base.data

    def case(kind: str, blob: bytes, n: int = 0) -> FuzzCase:
        return FuzzCase(f"{base.name}:{kind}:{n}", kind, base.doc_type, base.title, blob)

    yield case("original", data)
    yield case("truncate-eof", data[: -rng.randint(6, 40)])
    kinds = ("truncate", "flip", "flip-many", "zero-span", "repeat-span")
    for n in range(per_base):
        kind = kinds[n % len(kinds)]
        blob = bytearray(data)
        if kind == "truncate":
            blob = blob[: rng.randint(1, len(blob) - 1)]
        elif kind in ("flip", "flip-many"):
            for _ in range(1 if kind == "flip" else rng.randint(2, 64)):
                at = rng.randrange(len(blob))
                blob[at] ^= 1 << rng.randrange(8)
        elif kind == "zero-span":
            at = rng.randrange(len(blob))
            blob[at : at + rng.randint(1, 4096)] = b"\0" * len(blob[at : at + 4096])
        else:
            at = rng.randrange(len(blob))
            blob[at:at] = blob[at : at + rng.randint(1, 4096)]
        yield case(kind, bytes(blob), n)


def special_cases(rng: random.Random, max_bytes: int) -> list[FuzzCase]:
    """Inputs that are not mutations of one base document."""
    sample = _reportlab_pdf(None, text=False)
    oversize = sample[:-6] + b" " * (max_bytes + 1 - len(sample)) + sample[-6:]
    junk = b"%PDF-1.4\n" + bytes(rng.getrandbits(8) for _ in range(4096))
    return [
        FuzzCase("empty", "empty", "listing", "empty", b""),
        FuzzCase("html", "html", "listing", "html", HTML_PAGE.encode()),
        FuzzCase("oversize", "oversize", "listing", "oversize", oversize),
        FuzzCase("encrypted", "encrypted", "listing", "encrypted", _reportlab_pdf("s3cret", True)),
        FuzzCase("no-text", "no-text", "result", "no-text", sample),
        FuzzCase("junk", "junk", "result", "junk", junk),
        FuzzCase("header-flip", "header-flip", "listing", "header-flip", b"%PFD-" + sample[5:]),
    ]


def build_cases(bases: list[Base], per_base: int, seed: int = 0) -> list[FuzzCase]:
    from npl_assets.parsing import MAX_PDF_BYTES

    rng = random.Random(seed)
    cases = [c for base in bases for c in mutate(base, rng, per_base)]
    return cases + special_cases(rng, MAX_PDF_BYTES)


def load_cases(db: Path, raw: Path, cases: list[FuzzCase]) -> None:
    """The cases as stored documents: files under their sha256, rows in raw.documents."""
    from npl_assets import warehouse

    now = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for number, case in enumerate(cases):
        path = raw / case.sha256[:2] / f"{case.sha256}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.data)
        url = f"http://127.0.0.1/fuzz/{number:05d}"
        rows.append(
            (case.sha256, case.doc_type, case.title, f"{url}.html", f"{url}.pdf", len(case.data))
        )
    with warehouse.connect(db) as con:
        warehouse.ensure_schema(con)
        con.executemany(
            """insert into raw.documents (sha256, doc_type, title, list_date, detail_url, pdf_url,
                   byte_size, http_status, fetched_at)
               values (?, ?, ?, date '2023-12-07', ?, ?, ?, 200, ?)""",
            [(*row, now) for row in rows],
        )


def run_fuzz(work: Path, cases: list[FuzzCase]) -> FuzzResult:
    import dagster as dg

    from npl_assets.assets.parsed import listings, results
    from npl_assets.resources import Locations, platform_resources

    work.mkdir(parents=True, exist_ok=True)
    db, raw = work / "fuzz.duckdb", work / "raw"
    result = FuzzResult(cases=len(cases), kinds=dict(Counter(c.kind for c in cases)))
    # One content, one document: the same bytes reached twice must not count twice.
    by_sha: dict[str, FuzzCase] = {}
    for case in cases:
        by_sha.setdefault(case.sha256, case)
    load_cases(db, raw, list(by_sha.values()))
    result.documents = len(by_sha)
    locations = dataclasses.replace(Locations.under(work), warehouse=db)
    run = dg.materialize(
        [listings, results], resources=platform_resources(locations), raise_on_error=False
    )
    if not run.success:
        result.problems.append("materialising listings/results failed on fuzzed input")
    parsed = invariants.check_parsed(db)
    result.parsed, result.failed = parsed.parsed, parsed.failed
    result.failure_types = parsed.failure_types
    result.untyped = sum(n for t, n in parsed.failure_types.items() if t.startswith("Unexpected"))
    result.problems += parsed.problems
    outcome = dict(
        invariants.read_rows(
            db,
            "select sha256, 'parsed' from raw.listings union all "
            "select sha256, 'parsed' from raw.results union all "
            "select sha256, error_type from raw.parse_failures",
        )
    )
    for sha, case in by_sha.items():
        got = outcome.get(sha)
        if case.kind == "original" and got != "parsed":
            result.problems.append(f"control {case.name} did not parse: {got}")
        if case.kind in NEVER_PARSE and got == "parsed":
            result.problems.append(f"{case.name} ({case.kind}) was parsed as a document")
    return result

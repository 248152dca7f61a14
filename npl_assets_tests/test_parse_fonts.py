"""The parse does not depend on the machine's fonts, and the bundled site holds PDFs of both kinds.

PDFium substitutes a font of its own for a font a PDF does not embed and measures the text with
it; left to the machine's fonts, a PDF with the non-embedded STSong-Light extracted differently
with and without a CJK system font (a character alone on its line vanished). Here the parser
runs over every bundled-site PDF in child processes that see no system font at all, or only an
unrelated CJK font, and must give exactly the records it gives in the normal environment.

The font directories are hidden with a private mount namespace (`unshare -m`, tmpfs over each
directory), which needs root. Under CI (`CI` set) that must work: the test fails rather than
skips. Elsewhere it skips and says why.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from npl_assets.parsing.pdftext import (
    SUBSTITUTE_FONT_PACKAGE,
    extract_text,
    is_cjk_font_request,
)

# Every directory PDFium's Linux font info scans, plus the per-user one.
FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "/usr/share/X11/fonts",
    str(Path.home() / ".fonts"),
)
# A CJK font to show as the machine's only font: not the parser's own (Kurinto Sans SC), with
# other glyph metrics, so a parse that still looked at system fonts would change.
OTHER_CJK_FONT = "static/weblate_fonts/kurinto/ttf/KurintoSansTC-Rg.ttf"

# Parses every PDF under argv[1]; prints {relative path: record or error} and the fonts visible.
_CHILD = """
import json, os, sys
from pathlib import Path
from npl_assets.parsing import parse_pdf
from npl_assets.parsing.errors import ParseError

root = Path(sys.argv[1])
records = {}
for pdf in sorted(root.rglob("*.pdf")):
    try:
        records[str(pdf.relative_to(root))] = parse_pdf(pdf).to_json_dict()
    except ParseError as exc:
        records[str(pdf.relative_to(root))] = {"error": f"{type(exc).__name__}: {exc}"}
visible = sorted(
    str(Path(d) / f) for top in sys.argv[2:] for d, _, fs in os.walk(top) for f in fs
)
json.dump({"records": records, "visible_fonts": visible}, sys.stdout, default=str)
"""


def _hidden_fonts_command(site: Path, show_font: Path | None) -> list[str]:
    """A shell run in a private mount namespace: tmpfs over every existing font directory,
    optionally one font copied in, then the parse."""
    existing = [d for d in FONT_DIRS if os.path.isdir(d)]
    steps = [f"mount -t tmpfs none {shlex.quote(d)}" for d in existing]
    if show_font is not None:
        steps.append(f"cp {shlex.quote(str(show_font))} /usr/share/fonts/")
    child = [sys.executable, "-c", _CHILD, str(site), *existing]
    steps.append(shlex.join(child))
    return ["unshare", "-m", "sh", "-ec", " && ".join(steps)]


def _namespaces_usable() -> str | None:
    """None when `unshare -m` with a tmpfs mount works here, else why not."""
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    if not os.path.isdir("/usr/share/fonts"):
        return "/usr/share/fonts does not exist"
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs none /usr/share/fonts"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"unshare -m with a tmpfs mount failed (needs root): {probe.stderr.strip()}"
    return None


def _start(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str], what: str) -> dict:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, f"{what}: exit {process.returncode}\n{err[-3000:]}"
    return json.loads(out)


@pytest.mark.slow
def test_every_site_pdf_parses_the_same_whatever_fonts_the_machine_has(built_site: Path) -> None:
    reason = _namespaces_usable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the no-system-font parse, but {reason}")
        pytest.skip(f"cannot hide the system fonts: {reason}")
    other_font = Path(str(_package_file(OTHER_CJK_FONT)))
    assert other_font.is_file(), other_font

    # The three parses run at once (two cores); each takes ~10 s.
    normal = _start([sys.executable, "-c", _CHILD, str(built_site)])
    bare = _start(_hidden_fonts_command(built_site, None))
    other = _start(_hidden_fonts_command(built_site, other_font))
    expected = _finish(normal, "parse with the machine's fonts")["records"]
    no_fonts = _finish(bare, "parse with no system font")
    other_cjk = _finish(other, "parse with only an unrelated CJK system font")

    assert len(expected) == 606
    failed = {path: r["error"] for path, r in expected.items() if "error" in r}
    assert not failed, f"{len(failed)} PDFs fail to parse: {list(failed.items())[:5]}"

    assert no_fonts["visible_fonts"] == [], "the private mount did not hide the system fonts"
    assert [Path(f).name for f in other_cjk["visible_fonts"]] == [other_font.name]
    for label, run in (("no system font", no_fonts), ("another CJK font", other_cjk)):
        differing = sorted(p for p in expected if run["records"].get(p) != expected[p])
        assert run["records"].keys() == expected.keys(), label
        assert not differing, (
            f"with {label}, {len(differing)} PDFs parse differently, e.g. {differing[0]}:\n"
            f"{run['records'][differing[0]]}\nversus\n{expected[differing[0]]}"
        )


def _package_file(relative: str):
    import importlib.resources

    return importlib.resources.files(SUBSTITUTE_FONT_PACKAGE) / relative


# ------------------------------------------- non-embedded fonts as Word and WPS write them


def _word_style_pdf(base_font: bytes) -> bytes:
    """A one-page PDF whose font is a non-embedded Type0/CIDFontType2 with Identity-H encoding
    and a font name only (no FontFile), as Word and WPS write fonts they do not embed; a title
    wraps leaving 告 alone on its second line."""

    def hexs(text: str) -> bytes:
        # CIDs are the code points here; the ToUnicode CMap maps them back.
        return b"<" + "".join(f"{ord(c):04X}" for c in text).encode() + b">"

    content = b"BT /F1 19 Tf 60 700 Td %s Tj 0 -28 Td %s Tj ET" % (
        hexs("不良贷款转让公"),
        hexs("告"),
    )
    to_unicode = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def "
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def "
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange "
        b"1 beginbfrange <0000> <FFFF> <0000> endbfrange "
        b"endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H "
        b"/DescendantFonts [6 0 R] /ToUnicode 8 0 R >>" % base_font,
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo "
        b"<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/FontDescriptor 7 0 R /DW 1000 >>" % base_font,
        b"<< /Type /FontDescriptor /FontName /%s /Flags 6 /FontBBox [0 -141 1000 859] "
        b"/ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 700 /StemV 80 >>" % base_font,
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(to_unicode), to_unicode),
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


@pytest.mark.parametrize(
    "base_font",
    [b"SimSun", b"FangSong_GB2312", b"#CB#CE#CC#E5", b"FZXBSJW--GB1-0"],
    ids=["SimSun", "FangSong_GB2312", "songti-in-GBK", "Founder"],
)
def test_word_style_non_embedded_cjk_font_keeps_a_character_alone_on_its_line(
    base_font: bytes,
) -> None:
    # PDFium asks for these with a symbol/Latin charset; without a CJK substitute every glyph
    # box is empty and the one-character line is skipped.
    assert extract_text(_word_style_pdf(base_font)).split("\n") == ["不良贷款转让公", "告"]


@pytest.mark.parametrize(
    ("charset", "face", "cjk"),
    [
        (134, b"STSong-Light", True),
        (0, b"SimSun", True),
        (2, "宋体".encode("gbk"), True),
        (0, b"FZXBSJW--GB1-0", True),
        (0, b"Microsoft YaHei", True),
        (0, b"Helvetica", False),
        (0, b"Arial,Bold", False),
        (0, b"TimesNewRomanPSMT", False),
        (2, b"Symbol", False),
    ],
)
def test_which_substitute_requests_get_the_cjk_font(charset: int, face: bytes, cjk: bool) -> None:
    assert is_cjk_font_request(charset, face) is cjk


# --------------------------------------------------------------- the site's two kinds of PDF


def _fonts_used(pdf_path: Path) -> set[tuple[str, bool]]:
    """(base font name, embedded?) of every font the first page's text is set in, read from the
    PDF's font dictionaries by PDFium (embedded = a FontFile, FontFile2 or FontFile3 stream).
    The first page suffices: every page of these announcements uses the same fonts."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    found = set()
    pdf = pdfium.PdfDocument(pdf_path.read_bytes())
    try:
        page = pdf[0]
        for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_TEXT,)):
            font = pdfium_c.FPDFTextObj_GetFont(obj.raw)
            size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
            buffer = ctypes.create_string_buffer(size)
            pdfium_c.FPDFFont_GetBaseFontName(font, buffer, size)
            name = buffer.value.decode("utf-8", "replace")
            found.add((name, bool(pdfium_c.FPDFFont_GetIsEmbedded(font))))
        page.close()
    finally:
        pdf.close()
    return found


def test_site_holds_embedded_and_non_embedded_font_pdfs(built_site: Path) -> None:
    manifest = json.loads((built_site / "manifest.json").read_text(encoding="utf-8"))
    kinds: Counter[tuple[str, str]] = Counter()
    embedded_names: set[str] = set()
    for doc in manifest["documents"]:
        path = built_site / doc["pdf_path"].lstrip("/")
        fonts = _fonts_used(path)
        assert fonts, path
        if all(embedded for _, embedded in fonts):
            kind = "embedded"
            if not doc["is_real_sample"]:
                assert b"/FontFile2" in path.read_bytes(), path
                # Subsets are named "ABCDEF+PostScriptName".
                embedded_names |= {name.split("+")[-1] for name, _ in fonts}
        else:
            # Non-embedded means reportlab's built-in CID font and only it: no mixed documents.
            assert fonts == {("STSong-Light", False)}, (path, fonts)
            assert not doc["is_real_sample"], path
            assert b"/FontFile" not in path.read_bytes(), path
            kind = "non-embedded"
        kinds[(doc["doc_type"], kind)] += 1
    for doc_type in ("listing", "result"):
        total = kinds[(doc_type, "embedded")] + kinds[(doc_type, "non-embedded")]
        share = kinds[(doc_type, "non-embedded")] / total
        # About a quarter keep the non-embedded font (a stable hash picks them).
        assert 0.12 <= share <= 0.38, (doc_type, kinds)
    assert embedded_names == {"KurintoSansSC-Rg"}, embedded_names

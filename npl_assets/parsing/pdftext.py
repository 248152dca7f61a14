"""PDF bytes to text with PDFium (pypdfium2): the only place that touches the PDF library.

PDFium emits characters in content-stream order with a line break wherever the baseline moves,
which for these announcements keeps each table cell's text together. Pages are joined with a
form feed so that page-edge lines (page numbers) can be recognised later.

The text must not depend on the machine's fonts. For a font the PDF does not embed (a CID font
such as STSong-Light), PDFium asks its system font info for a substitute and measures every
glyph with it; a text object whose measured box has no width is skipped by the text page. By
default that font info scans the machine's font directories, so with no CJK font installed a
CJK glyph has an empty box, a character alone on its line (the 告 of a wrapped title) has a
zero-width object and vanishes, and the other lines merge differently. So this module replaces
PDFium's system font info, before any document is opened, with one that offers a single CJK
font shipped as a Python dependency (Kurinto Sans SC from weblate-fonts) for every CJK
request (a CJK charset, or a CJK font name such as SimSun or 宋体) and nothing else: every other
non-embedded font falls back to the fonts compiled into PDFium. Substitution is then the same on
every machine, whatever /usr/share/fonts holds (PDFium's "zero-width object" rule is in
CPDF_TextPage::ProcessTextObject; the box comes from the substitute's glyph bounding boxes).
"""

from __future__ import annotations

import ctypes
import importlib.resources
import struct
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from npl_assets.parsing.errors import UnreadablePdfError

PAGE_BREAK = "\f"
# The PDF header may be preceded by junk; the spec allows it within the first 1024 bytes.
_HEADER_WINDOW = 1024

# --- PDFium's font world: one project font, no system fonts --------------------------------

# The substitute for non-embedded CJK fonts: a TrueType font with GB2312, Big5 and the CJK
# ideographs, in a pyproject dependency (no download, no system package).
SUBSTITUTE_FONT_PACKAGE = "weblate_fonts"
SUBSTITUTE_FONT_PATH = "static/weblate_fonts/kurinto/ttf/KurintoSansSC-Rg.ttf"
_CJK_CHARSETS = frozenset(
    {
        pdfium_c.FXFONT_SHIFTJIS_CHARSET,
        pdfium_c.FXFONT_HANGEUL_CHARSET,
        pdfium_c.FXFONT_GB2312_CHARSET,
        pdfium_c.FXFONT_CHINESEBIG5_CHARSET,
    }
)
# Non-embedded CJK fonts that PDFium asks for with a Latin or symbol charset: Word and WPS write
# Type0 fonts with Identity-H encoding and a font name only (SimSun, FangSong_GB2312, or the name
# in GBK such as 宋体). Matched on the name with case, spaces, hyphens and underscores removed.
_CJK_FAMILY_MARKS = (
    "simsun",
    "simhei",
    "simkai",
    "simfang",
    "fangsong",
    "kaiti",
    "songti",
    "heiti",
    "stsong",
    "stheiti",
    "stkaiti",
    "stxihei",
    "stzhongsong",
    "yahei",
    "dengxian",
    "mingliu",
    "dfkai",
    "gb2312",
    "gbk",
    "big5",
    "mincho",
    "msgothic",
    "batang",
    "gulim",
    "dotum",
    "gungsuh",
    "sourcehan",
    "notosanscjk",
    "notoserifcjk",
    "wenquanyi",
    "adobesong",
    "adobeheiti",
    "adobekaiti",
    "adobefangsong",
)
# Founder (方正) font names start with FZ and end with a style code, e.g. FZXBSJW--GB1-0.
_FOUNDER_PREFIX = "fz"
_HANDLE = 1  # the one font this font info knows; PDFium treats the handle as opaque


def is_cjk_font_request(charset: int, face: bytes) -> bool:
    """Whether PDFium's request for a substitute font is for a CJK font: by charset, or by a
    font name that is not ASCII (a Chinese name in a legacy encoding) or names a CJK family."""
    if charset in _CJK_CHARSETS:
        return True
    if not face.isascii():
        return True
    name = face.decode("ascii").lower()
    for junk in (" ", "-", "_", ","):
        name = name.replace(junk, "")
    if name.startswith(_FOUNDER_PREFIX) and name[2:3].isalpha():
        return True
    return any(mark in name for mark in _CJK_FAMILY_MARKS)


def substitute_font_file() -> Path:
    """The CJK font PDFium substitutes for non-embedded CJK fonts."""
    path = Path(str(importlib.resources.files(SUBSTITUTE_FONT_PACKAGE) / SUBSTITUTE_FONT_PATH))
    if not path.is_file():
        raise RuntimeError(
            f"the parser's CJK substitute font is missing ({path}); install the project's "
            "dependencies (pip install -e .) so that text does not depend on system fonts"
        )
    return path


class _ProjectFontInfo:
    """An FPDF_SYSFONTINFO that offers one font file for CJK requests and nothing else.

    PDFium calls back into these methods while it loads a page's fonts; the ctypes struct and
    its callbacks must stay referenced for the life of the process (they are module state)."""

    def __init__(self, font_file: Path) -> None:
        self.data = font_file.read_bytes()
        self.tables = _sfnt_tables(self.data)
        self.face = _sfnt_family_name(self.data, self.tables).encode("utf-8")
        fields = dict(pdfium_c.FPDF_SYSFONTINFO._fields_)
        self.struct = pdfium_c.FPDF_SYSFONTINFO(
            version=1,
            Release=fields["Release"](self._release),
            EnumFonts=fields["EnumFonts"](self._enum_fonts),
            MapFont=fields["MapFont"](self._map_font),
            GetFont=fields["GetFont"](self._get_font),
            GetFontData=fields["GetFontData"](self._get_font_data),
            GetFaceName=fields["GetFaceName"](self._get_face_name),
            GetFontCharset=fields["GetFontCharset"](self._get_charset),
            DeleteFont=fields["DeleteFont"](self._delete_font),
        )

    def _release(self, _this) -> None:
        pass

    def _enum_fonts(self, _this, mapper) -> None:
        for charset in sorted(_CJK_CHARSETS):
            pdfium_c.FPDF_AddInstalledFont(mapper, self.face, charset)

    def _map_font(self, _this, _weight, _italic, charset, _pitch, face, _exact):
        # None: PDFium then uses its built-in (compiled-in) fonts, the same on every machine.
        name = ctypes.string_at(face) if face else b""
        return _HANDLE if is_cjk_font_request(charset, name) else None

    def _get_font(self, _this, face):
        return _HANDLE if face and ctypes.string_at(face) == self.face else None

    def _get_font_data(self, _this, _font, table: int, buffer, size: int) -> int:
        if table == 0:
            blob = self.data
        elif table in self.tables:
            offset, length = self.tables[table]
            blob = self.data[offset : offset + length]
        else:
            return 0
        if buffer and size >= len(blob):
            ctypes.memmove(buffer, blob, len(blob))
        return len(blob)

    def _get_face_name(self, _this, _font, buffer, size: int) -> int:
        name = self.face + b"\0"
        if buffer and size >= len(name):
            ctypes.memmove(buffer, name, len(name))
        return len(name)

    def _get_charset(self, _this, _font) -> int:
        return pdfium_c.FXFONT_GB2312_CHARSET

    def _delete_font(self, _this, _font) -> None:
        pass


def _sfnt_tables(data: bytes) -> dict[int, tuple[int, int]]:
    """Table tag (as PDFium passes it, a big-endian int) -> (offset, length)."""
    if data[:4] not in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
        raise RuntimeError("the CJK substitute font is not a single TrueType/OpenType font")
    (count,) = struct.unpack_from(">H", data, 4)
    tables = {}
    for index in range(count):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * index)
        tables[int.from_bytes(tag, "big")] = (offset, length)
    return tables


def _sfnt_family_name(data: bytes, tables: dict[int, tuple[int, int]]) -> str:
    """The font's English family name (name ID 1, Windows Unicode record)."""
    offset, _ = tables[int.from_bytes(b"name", "big")]
    _fmt, count, strings = struct.unpack_from(">HHH", data, offset)
    for index in range(count):
        platform, encoding, _lang, name_id, length, at = struct.unpack_from(
            ">HHHHHH", data, offset + 6 + 12 * index
        )
        if name_id == 1 and platform == 3 and encoding in (0, 1):
            start = offset + strings + at
            return data[start : start + length].decode("utf-16-be")
    raise RuntimeError("the CJK substitute font has no family name")


def _install_font_info() -> _ProjectFontInfo:
    # Before any document is opened in this process (at import): PDFium loads its font list
    # once, on first use. A forked worker inherits the installed font info with PDFium's state.
    info = _ProjectFontInfo(substitute_font_file())
    pdfium_c.FPDF_SetSystemFontInfo(ctypes.byref(info.struct))
    return info


_FONT_INFO = _install_font_info()


# --- text ----------------------------------------------------------------------------------


def extract_pages(pdf_bytes: bytes, name: str = "<pdf>") -> list[str]:
    """Each page's text, line breaks normalised to "\\n". Raises UnreadablePdfError."""
    if not pdf_bytes:
        raise UnreadablePdfError(name, "empty file (0 bytes)")
    if b"%PDF-" not in pdf_bytes[:_HEADER_WINDOW]:
        head = pdf_bytes[:16].decode("latin-1").encode("unicode_escape").decode("ascii")
        raise UnreadablePdfError(name, f"not a PDF (no %PDF- header; starts with {head!r})")
    try:
        pdf = pdfium.PdfDocument(pdf_bytes)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise UnreadablePdfError(name, "encrypted PDF (password required)") from exc
        raise UnreadablePdfError(name, f"broken PDF: {reason}") from exc
    try:
        if len(pdf) == 0:
            raise UnreadablePdfError(name, "PDF has no pages")
        pages = []
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                pages.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n"))
            finally:
                textpage.close()
                page.close()
    except pdfium.PdfiumError as exc:
        raise UnreadablePdfError(name, f"broken PDF: {exc}") from exc
    finally:
        pdf.close()
    if not any(p.strip() for p in pages):
        raise UnreadablePdfError(name, "PDF has no text layer (a scan?)")
    return pages


def extract_text(pdf_bytes: bytes, name: str = "<pdf>") -> str:
    """The whole document's text, pages separated by a form feed."""
    return PAGE_BREAK.join(extract_pages(pdf_bytes, name))

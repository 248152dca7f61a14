"""PDF bytes to text with PDFium (pypdfium2): the only place that touches the PDF library.

PDFium emits characters in content-stream order with a line break wherever the baseline moves,
which for these announcements keeps each table cell's text together. Pages are joined with a
form feed so that page-edge lines (page numbers) can be recognised later.
"""

from __future__ import annotations

import pypdfium2 as pdfium

from npl_assets.parsing.errors import UnreadablePdfError

PAGE_BREAK = "\f"
# The PDF header may be preceded by junk; the spec allows it within the first 1024 bytes.
_HEADER_WINDOW = 1024


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

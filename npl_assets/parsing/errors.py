"""Why a document could not be parsed. Every error names the document and, where there is one,
the field, so a failure row in the warehouse says what to look at without re-running anything.

    ParseError(document, message)              base; `.field` is None unless a field is at fault
    ├── UnreadablePdfError                     not a PDF, broken, encrypted, empty, no text layer
    ├── NotAnAnnouncementError                 a readable PDF that is neither listing nor result
    ├── MissingFieldError(document, field)     a required label or its value is absent
    └── InvalidValueError(document, field, raw) a required value is there but does not read as
                                               its type (an optional one is kept as raw text)

The pure normalisers know no document: they raise `NormaliseError` (a ValueError), which the
parser turns into an `InvalidValueError` naming the document and field.
"""

from __future__ import annotations


class ParseError(Exception):
    """Base of all parser failures."""

    def __init__(self, document: str, message: str, *, field: str | None = None) -> None:
        self.document = document
        self.message = message
        self.field = field
        super().__init__(f"{document}: {message}")


class UnreadablePdfError(ParseError):
    """The bytes are not a PDF PDFium can open, or it has no pages or no text layer."""


class NotAnAnnouncementError(ParseError):
    """A readable PDF whose title is neither a 转让公告 nor a 转让结果公告."""


class MissingFieldError(ParseError):
    def __init__(self, document: str, field: str, detail: str | None = None) -> None:
        message = f"required field {field!r} not found"
        if detail:
            message += f" ({detail})"
        super().__init__(document, message, field=field)


class InvalidValueError(ParseError):
    def __init__(self, document: str, field: str, raw: str, reason: str | None = None) -> None:
        self.raw = raw
        message = f"field {field!r} has an unreadable value {raw!r}"
        if reason:
            message += f": {reason}"
        super().__init__(document, message, field=field)


class NormaliseError(ValueError):
    """Raised by the pure normalisers; carries the raw text and what was expected."""

    def __init__(self, raw: str, expected: str) -> None:
        self.raw = raw
        self.expected = expected
        super().__init__(f"{raw!r} is not {expected}")


class UnknownAssetTypeWording(NormaliseError):
    def __init__(self, raw: str) -> None:
        super().__init__(raw, "a known asset-type wording")

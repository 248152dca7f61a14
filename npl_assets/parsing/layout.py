"""Finding labels and their values in extracted text, independent of line positions.

The text of a two-column table comes out of PDFium cell by cell, but a label may wrap inside its
cell ("单一借款人最高未偿\\n本息余额（元）"), parentheses and colons come full-width or ASCII, and
stray spaces occur. So each label is a regex that allows whitespace between any two characters,
labels are located in the text, and a label's *slot* is the text from its end to the next label
(or the next section heading). Values are then read from slots by type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from npl_assets.parsing.errors import NormaliseError
from npl_assets.parsing.normalize import NULL_MARKERS, find_last_date, fold
from npl_assets.parsing.pdftext import PAGE_BREAK

_GAP = r"\s*"
_CLASSES = {"（": "[（(]", "(": "[（(]", "）": "[）)]", ")": "[）)]", "：": "[：:]", ":": "[：:]"}
# Page furniture a generator may print at a page's top or bottom edge.
_PAGE_NUMBER = re.compile(
    r"^(?:第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|[-—–]\s*\d+\s*[-—–]|\d+\s*/\s*\d+"
    r"|(?:page|页码)\s*\d+(?:\s*(?:of|/)\s*\d+)?)$",
    re.IGNORECASE,
)
_HEADING = re.compile(r"(?:^|\n)[ \t]*[一二三四五六七八九十]{1,3}[ \t]*、")
_ANNOUNCE_END = re.compile(r"特\s*此\s*公\s*告")
_TITLE_SUFFIX = re.compile(r"不\s*良\s*贷\s*款\s*转\s*让\s*(结\s*果\s*)?公\s*告")
_RELISTING_AFTER = re.compile(
    r"\s*[（(]\s*(?:第\s*\S{1,3}\s*次\s*)?重\s*新\s*(?:挂\s*牌|公\s*告)\s*[）)]"
)
# The title is at the top; anything longer than this before the suffix is not a title.
_TITLE_WINDOW = 300
_VALUE_CHUNK = re.compile(r"^\d[\d,.\-/年月日:]*(?:元|笔|户|天|岁|分钟)?$")


def label_regex(text: str) -> str:
    """'其他费用（元）' -> a regex allowing whitespace inside and either bracket form."""
    return _GAP.join(_CLASSES.get(ch, re.escape(ch)) for ch in text)


@dataclass(frozen=True)
class Label:
    """A table label: `core` must match, one of `tails` (unit, 概述, 全称...) may follow."""

    field: str
    core: str
    tails: tuple[str, ...] = ()
    # A label also used as a section heading ("三、转让方式"): skip occurrences right after 、.
    not_after_enumeration: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.core, self.tails)


_CACHE: dict[tuple[str, tuple[str, ...]], re.Pattern[str]] = {}


def _compiled(core: str, tails: tuple[str, ...]) -> re.Pattern[str]:
    key = (core, tails)
    if key not in _CACHE:
        regex = label_regex(core)
        if tails:
            regex += "(?:" + _GAP + "(?:" + "|".join(label_regex(t) for t in tails) + "))?"
        _CACHE[key] = re.compile(regex)
    return _CACHE[key]


@dataclass(frozen=True)
class Located:
    label: Label
    start: int
    end: int


def clean_text(raw: str) -> str:
    """Unify whitespace and drop page numbers at page edges; pages become plain lines."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ").replace("\xa0", " ")
    pages = []
    for page in raw.split(PAGE_BREAK):
        lines = page.split("\n")
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        if lines and _PAGE_NUMBER.match(fold(lines[-1])):
            lines.pop()
        if lines and _PAGE_NUMBER.match(fold(lines[0])):
            lines.pop(0)
        pages.append("\n".join(lines))
    return "\n".join(pages)


def join_lines(text: str) -> str:
    """A wrapped cell's text as one line: Chinese wraps need no space at the break."""
    return "".join(line.strip() for line in text.split("\n"))


def locate(
    text: str, labels: Iterable[Label], start: int = 0, end: int | None = None
) -> list[Located]:
    """The first occurrence of each label within [start, end), ordered by position."""
    end = len(text) if end is None else end
    found = []
    for label in labels:
        for m in label.pattern.finditer(text, start, end):
            if label.not_after_enumeration and text[: m.start()].rstrip().endswith("、"):
                continue
            found.append(Located(label, m.start(), m.end()))
            break
    return sorted(found, key=lambda loc: loc.start)


def slots(text: str, located: Sequence[Located], end: int) -> dict[str, str]:
    """Each located label's text up to the next label, section heading or `end`."""
    out = {}
    for i, loc in enumerate(located):
        stop = located[i + 1].start if i + 1 < len(located) else end
        heading = _HEADING.search(text, loc.end, stop)
        if heading:
            stop = heading.start()
        out[loc.label.field] = text[loc.end : stop]
    return out


def value_chunks(slot: str) -> list[str]:
    """The number-like (or explicitly empty) chunks of a slot; stray label fragments dropped."""
    chunks = []
    for chunk in slot.split():
        folded = fold(chunk).lstrip(":")
        if not folded:
            continue
        if folded in NULL_MARKERS or _VALUE_CHUNK.match(folded):
            chunks.append(folded)
    return chunks


def assign_typed(
    located: Sequence[Located], slot_text: dict[str, str], accepts: dict[str, Callable[[str], bool]]
) -> dict[str, str | None]:
    """Pick each label's raw value from the slots.

    Normally a label's value is the first chunk of its own slot. When a table prints a row's
    labels before its values ("A B vA vB"), A's slot is empty and B's holds two chunks; the
    leading surplus chunks then go to the most recent labels still waiting for a value. A label
    whose cell is blank stays waiting and ends up None; it never takes a chunk from a slot that
    holds only one value. `accepts[field](chunk)` says whether a chunk can be that field's value.
    """
    values: dict[str, str | None] = {}
    pending: list[str] = []
    for loc in located:
        field = loc.label.field
        if field not in accepts:
            continue
        chunks = value_chunks(slot_text.get(field, ""))
        if not chunks:
            pending.append(field)
            values[field] = None
            continue
        surplus = min(len(chunks) - 1, len(pending))
        if surplus:
            takers = pending[-surplus:]
            if all(accepts[f](c) for f, c in zip(takers, chunks, strict=False)):
                for taker, chunk in zip(takers, chunks, strict=False):
                    values[taker] = chunk
                del pending[-surplus:]
                chunks = chunks[surplus:]
        values[field] = chunks[0]
    return values


@dataclass(frozen=True)
class TitleMatch:
    title: str
    doc_type: str
    end: int


def find_title(text: str) -> TitleMatch | None:
    """The announcement title at the top of the text, joined across its line wraps."""
    m = _TITLE_SUFFIX.search(text, 0, _TITLE_WINDOW)
    if not m:
        return None
    end = m.end()
    relisting = _RELISTING_AFTER.match(text, end)
    if relisting:
        end = relisting.end()
    title = " ".join(join_lines(text[:end]).split())
    return TitleMatch(title, "result" if m.group(1) else "listing", end)


def publication_date(text: str) -> date | None:
    """The footer date: the last date after the last 特此公告 (or in the last lines if the
    closing formula is missing)."""
    ends = list(_ANNOUNCE_END.finditer(text))
    tail = text[ends[-1].end() :] if ends else text[-200:]
    try:
        return find_last_date(tail)
    except NormaliseError:
        return None


def announcement_end(text: str, start: int) -> int:
    """Where the body ends: the first 特此公告 after `start`, or the end of the text."""
    m = _ANNOUNCE_END.search(text, start)
    return m.start() if m else len(text)

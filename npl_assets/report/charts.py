"""Charts as inline SVG strings. Hand-written rather than matplotlib: the browser draws the
Chinese labels with its own fonts, the page stays text, and rendering costs no import time."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#2f5d8a", "#d9822b", "#4a9a6b", "#b8455b", "#7a5fa8", "#8c8c8c")
FONT = "font-family=\"'Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif\""


def _text_width(text: str, size: float) -> float:
    """A rough width: CJK glyphs are square, Latin ones about half as wide."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in text)


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" role="img" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" {FONT} font-size="12">'
        f"<title>{escape(title)}</title>"
        f'<text x="0" y="14" font-size="13" font-weight="600" fill="#222">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def hbar_chart(
    title: str,
    rows: Sequence[tuple[str, float, str]],
    *,
    width: float = 560,
    color: str = PALETTE[0],
) -> str:
    """Horizontal bars: one (label, value, value label) per row; values must be >= 0."""
    if any(value < 0 for _, value, _ in rows):
        raise ValueError(f"{title}: bar values must not be negative")
    row_h, top = 24, 28
    label_w = max([_text_width(label, 12) for label, _, _ in rows] + [40]) + 10
    value_w = max([_text_width(text, 11) for _, _, text in rows] + [30]) + 8
    bar_space = max(width - label_w - value_w, 60)
    peak = max([value for _, value, _ in rows] + [0]) or 1
    body: list[str] = []
    for i, (label, value, text) in enumerate(rows):
        y = top + i * row_h
        bar = bar_space * value / peak
        body.append(
            f'<text x="{label_w - 8:.0f}" y="{y + 15}" text-anchor="end" fill="#333">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w:.0f}" y="{y + 3}" width="{bar:.1f}" height="{row_h - 8}" '
            f'fill="{color}"/>'
            f'<text x="{label_w + bar + 5:.1f}" y="{y + 15}" font-size="11" fill="#444">'
            f"{escape(text)}</text>"
        )
    if not rows:
        body.append(f'<text x="0" y="{top + 15}" fill="#777">(no data)</text>')
    return _svg(width, top + max(len(rows), 1) * row_h + 6, title, body)


def grouped_hbar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float], Sequence[str]]],
    *,
    width: float = 560,
) -> str:
    """Horizontal bars grouped by category: series are (name, values, value labels), all
    values on one scale (shares, say), with a legend on top."""
    for name, values, texts in series:
        if len(values) != len(categories) or len(texts) != len(categories):
            raise ValueError(f"{title}: series {name!r} does not match the categories")
        if any(v < 0 for v in values):
            raise ValueError(f"{title}: bar values must not be negative")
    bar_h, gap, top = 14, 10, 46
    label_w = max([_text_width(c, 12) for c in categories] + [40]) + 10
    value_w = max([_text_width(t, 11) for _, _, texts in series for t in texts] + [30]) + 8
    bar_space = max(width - label_w - value_w, 60)
    peak = max([v for _, values, _ in series for v in values] + [0]) or 1
    body: list[str] = []
    x = 0.0
    for k, (name, _, _) in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        body.append(
            f'<rect x="{x:.0f}" y="24" width="12" height="12" fill="{color}"/>'
            f'<text x="{x + 16:.0f}" y="34" fill="#333">{escape(name)}</text>'
        )
        x += _text_width(name, 12) + 34
    group_h = bar_h * len(series) + gap
    for i, category in enumerate(categories):
        y0 = top + i * group_h
        body.append(
            f'<text x="{label_w - 8:.0f}" y="{y0 + group_h / 2:.0f}" text-anchor="end" '
            f'fill="#333">{escape(category)}</text>'
        )
        for k, (_, values, texts) in enumerate(series):
            y = y0 + k * bar_h
            bar = bar_space * values[i] / peak
            body.append(
                f'<rect x="{label_w:.0f}" y="{y}" width="{bar:.1f}" height="{bar_h - 2}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"/>'
                f'<text x="{label_w + bar + 5:.1f}" y="{y + bar_h - 3}" font-size="11" '
                f'fill="#444">{escape(texts[i])}</text>'
            )
    return _svg(width, top + len(categories) * group_h + 4, title, body)


def column_chart(
    title: str,
    columns: Sequence[tuple[str, float, str]],
    *,
    highlight: str | None = None,
    height: float = 220,
) -> str:
    """Vertical columns over time: (label, value, value label); `highlight` picks one column."""
    if any(value < 0 for _, value, _ in columns):
        raise ValueError(f"{title}: column values must not be negative")
    col_w = 56
    top, bottom = 40, 24
    width = max(360, len(columns) * col_w + 10)
    space = height - top - bottom
    peak = max([value for _, value, _ in columns] + [0]) or 1
    body = [
        f'<line x1="0" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#bbb"/>'
    ]
    for i, (label, value, text) in enumerate(columns):
        x = 5 + i * col_w
        bar = space * value / peak
        color = PALETTE[1] if label == highlight else PALETTE[0]
        weight = ' font-weight="700"' if label == highlight else ""
        body.append(
            f'<rect x="{x + 8}" y="{height - bottom - bar:.1f}" width="{col_w - 16}" '
            f'height="{bar:.1f}" fill="{color}"/>'
            f'<text x="{x + col_w / 2:.0f}" y="{height - bottom - bar - 4:.1f}" '
            f'text-anchor="middle" font-size="10" fill="#444">{escape(text)}</text>'
            f'<text x="{x + col_w / 2:.0f}" y="{height - 8}" text-anchor="middle" '
            f'font-size="11" fill="#333"{weight}>{escape(label)}</text>'
        )
    return _svg(width, height, title, body)

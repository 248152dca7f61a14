"""The one table `make reliability` prints: a row per scenario, the totals, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

COLUMNS = (
    ("scenario", "scenario"),
    ("faults", "faults injected"),
    ("stored", "stored"),
    ("failed", "failed"),
    ("retried", "retried"),
    ("duplicates", "duplicates"),
    ("lost", "lost"),
    ("reader_errors", "reader errors"),
    ("fuzz_cases", "fuzz cases"),
    ("crashes", "crashes"),
    ("untyped", "untyped crashes"),
    ("problems", "problems"),
    ("seconds", "seconds"),
)
# The verdict: these must all be zero.
MUST_BE_ZERO = ("duplicates", "lost", "reader_errors", "untyped", "problems")
# Stored, failed and retried count the same documents again in each scenario: no total.
NOT_SUMMED = ("stored", "failed", "retried")


@dataclass
class Row:
    scenario: str
    faults: int | None = None
    stored: int | None = None
    failed: int | None = None
    retried: int | None = None
    duplicates: int | None = None
    lost: int | None = None
    reader_errors: int | None = None
    fuzz_cases: int | None = None
    crashes: int | None = None
    untyped: int | None = None
    problems: int = 0
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)  # the problems, one line each
    notes: list[str] = field(default_factory=list)  # worth knowing, not a failure


def total(rows: list[Row]) -> Row:
    out = Row("total")
    for name, _ in COLUMNS[1:]:
        if name in NOT_SUMMED:
            continue
        values = [getattr(r, name) for r in rows if getattr(r, name) is not None]
        if values:
            setattr(out, name, round(sum(values), 1) if name == "seconds" else sum(values))
    return out


def format_table(rows: list[Row]) -> str:
    rows = [*rows, total(rows)]

    def cell(row: Row, name: str) -> str:
        value = getattr(row, name)
        if value is None:
            return "-"
        return f"{value:.0f}" if name == "seconds" else str(value)

    cells = [[title for _, title in COLUMNS]]
    cells += [[cell(row, name) for name, _ in COLUMNS] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]

    def line(values: list[str]) -> str:
        first = values[0].ljust(widths[0])
        rest = [v.rjust(w) for v, w in zip(values[1:], widths[1:], strict=True)]
        return "| " + " | ".join([first, *rest]) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [line(cells[0]), rule, *(line(c) for c in cells[1:-1]), rule, line(cells[-1])]
    return "\n".join(body)


def verdict(rows: list[Row]) -> tuple[bool, str]:
    summary = total(rows)
    counts = {name: getattr(summary, name) or 0 for name in MUST_BE_ZERO}
    ok = not any(counts.values())
    text = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in counts.items())
    return ok, ("PASS: " if ok else "FAIL: ") + text

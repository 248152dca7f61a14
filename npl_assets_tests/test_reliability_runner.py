"""`make reliability` (python -m harness.reliability): one table, and a verdict that fails on
any duplicate, lost document, reader error, untyped crash or other problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.reliability.runner import main
from harness.reliability.table import Row, format_table, verdict

HEADER = (
    "faults injected",
    "stored",
    "failed",
    "retried",
    "duplicates",
    "reader errors",
    "fuzz cases",
    "crashes",
)


def test_the_table_has_every_column_and_a_total() -> None:
    rows = [Row("a", faults=10, stored=5, failed=1, retried=2), Row("b", stored=3, crashes=4)]
    table = format_table(rows)
    lines = table.splitlines()
    assert all(title in lines[0] for title in HEADER)
    assert lines[-1].split("|")[1].strip() == "total"
    total = [c.strip() for c in lines[-1].split("|")[2:-1]]
    # Stored, failed and retried would count documents twice across scenarios: no total.
    assert total[:4] == ["10", "-", "-", "-"] and total[8] == "4"
    assert len({len(line) for line in lines}) == 1  # aligned


@pytest.mark.parametrize(
    ("row", "ok"),
    [
        (Row("x", duplicates=0, lost=0, reader_errors=0, untyped=0), True),
        (Row("x", duplicates=1), False),
        (Row("x", lost=2), False),
        (Row("x", reader_errors=1), False),
        (Row("x", untyped=1), False),
        (Row("x", problems=1), False),
    ],
)
def test_the_verdict(row: Row, ok: bool) -> None:
    assert verdict([row])[0] is ok


def test_a_quick_run_prints_the_table_and_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--quick", "--only", "hostile", "--work", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "| hostile site (" in out and "| total " in out
    assert "PASS: 0 duplicates, 0 lost, 0 reader errors, 0 untyped, 0 problems" in out

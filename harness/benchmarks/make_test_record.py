"""The wall time of the last `make test`, as the test session records it at its end in
data/bench/make_test.json ({"seconds", "passed", "failed", "workers", "finished_at"}). The bench
reads it rather than run the suite itself (which would take the machine for minutes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

RECORD_NAME = "make_test.json"
# Issue 17: `make test` under 5 minutes (before: 7 min 43 s, quiet machine).
TARGET_SECONDS = 300.0
BEFORE = "7 min 43 s"


class RecordError(ValueError):
    """make_test.json exists but is not a record this bench can read."""


@dataclass(frozen=True)
class MakeTestRecord:
    seconds: float
    passed: int
    failed: int
    workers: int | str  # an xdist worker count, or what the session wrote ("auto")
    finished_at: str  # ISO 8601, as written
    path: str


def _number(data: dict, key: str, path: Path) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise RecordError(f"{path}: {key!r} must be a non-negative number, got {value!r}")
    return value


def read_make_test(path: Path) -> MakeTestRecord | None:
    """The record at `path`; None when there is none (no `make test` since the hook came)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise RecordError(f"{path}: expected a JSON object, got {type(data).__name__}")
    seconds = float(_number(data, "seconds", path))
    passed = int(_number(data, "passed", path))
    failed = int(_number(data, "failed", path))
    workers = data.get("workers")
    if not isinstance(workers, int | str) or isinstance(workers, bool):
        raise RecordError(f"{path}: 'workers' must be a count or a name, got {workers!r}")
    finished_at = data.get("finished_at")
    try:
        datetime.fromisoformat(str(finished_at))
    except ValueError as exc:
        raise RecordError(
            f"{path}: 'finished_at' must be an ISO 8601 time, got {finished_at!r}"
        ) from exc
    return MakeTestRecord(seconds, passed, failed, workers, str(finished_at), str(path))

"""One run at a time on a warehouse: an exclusive lock on `<warehouse>.lock`, held by a run from
the set-up of its DuckDB resource to its teardown.

Dagster's `duckdb` pool alone is not enough: on the default SQLite instance storage a slot claim
is a read followed by a write, so two runs that ask at the same moment can both get the one slot
(and then both crawl the same new documents, or dbt fails on DuckDB's lock). A kernel lock
(flock) has no such race and needs no cleanup: it goes away with the process that held it, kill -9
included, so it can never go stale. The file says who holds it, for the waiting run's log."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_TIMEOUT = 12 * 3600.0  # a first polite crawl of the real site takes hours
TIMEOUT_ENV = "NPL_WAREHOUSE_LOCK_TIMEOUT"
WAIT_LOG_EVERY = 60.0


class WarehouseBusy(RuntimeError):
    """The warehouse stayed locked by another run for longer than the timeout."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def lock_timeout() -> float:
    value = os.environ.get(TIMEOUT_ENV)
    if not value:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{TIMEOUT_ENV} must be a number of seconds, got {value!r}") from None
    if seconds < 0:
        raise ValueError(f"{TIMEOUT_ENV} must not be negative, got {value!r}")
    return seconds


class WarehouseLock:
    def __init__(self, database: Path) -> None:
        self.path = lock_path(Path(database))
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            text = ""
        return text or "another process"

    def acquire(
        self,
        owner: str,
        timeout: float | None = None,
        on_wait: Callable[[str], None] | None = None,
        poll: float = 0.2,
    ) -> float:
        """Take the lock, waiting up to `timeout` seconds (None: DEFAULT_TIMEOUT or the
        environment's); `on_wait` hears who holds it, at once and then every minute. Returns the
        seconds waited."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this process")
        timeout = lock_timeout() if timeout is None else timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        started = time.monotonic()
        told = None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    waited = time.monotonic() - started
                    if waited >= timeout:
                        raise WarehouseBusy(
                            f"the warehouse {self.path.with_suffix('')} is in use by "
                            f"{self.holder()}; gave up after {waited:.0f} s "
                            f"({TIMEOUT_ENV}={timeout:g})"
                        ) from None
                    if on_wait and (told is None or waited - told >= WAIT_LOG_EVERY):
                        on_wait(f"waiting for the warehouse, in use by {self.holder()}")
                        told = waited
                    time.sleep(poll)
        except BaseException:
            os.close(fd)
            raise
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{owner} (pid {os.getpid()}) since {since}\n".encode(), 0)
        self._fd = fd
        return time.monotonic() - started

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

"""Peak memory of the benchmark's process tree: the bench process, Scrapy crawls, parse workers,
dbt, `dagster job execute`, the daemon and the runs it launches.

On Linux a background thread reads every descendant's memory from /proc a few times a second
(no psutil in the stack): the summed resident set size (RSS), which counts pages a forked parse
worker shares with its parent once per process, and the summed proportional set size (PSS),
which splits shared pages between their users and so adds up to what the machine holds. The
bench process's own share is kept apart, for phases whose pipeline runs in child processes.
`resource.getrusage` gives a floor everywhere: the largest single process."""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
DEFAULT_INTERVAL = 0.5


def _ppid(stat_line: str) -> int:
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return int(stat_line.rsplit(")", 1)[1].split()[1])


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (by parent pid), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = _ppid((entry / "stat").read_text())
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def process_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes; PSS falls back to RSS on kernels without smaps_rollup."""
    try:
        rss = int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0, 0
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return rss, int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return rss, rss


def largest_process_bytes() -> int:
    """getrusage's peak RSS of this process and of its largest waited-for descendant."""
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB elsewhere
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) * scale


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic()
    rss: int  # summed over the tree
    pss: int
    own_rss: int  # the bench process alone
    own_pss: int
    processes: int

    @property
    def children_rss(self) -> int:
        return self.rss - self.own_rss

    @property
    def children_pss(self) -> int:
        return self.pss - self.own_pss


def sample_tree(root: int) -> Sample:
    rss = pss = own_rss = own_pss = 0
    pids = process_tree(root)
    for pid in pids:
        r, p = process_memory(pid)
        rss += r
        pss += p
        if pid == root:
            own_rss, own_pss = r, p
    return Sample(time.monotonic(), rss, pss, own_rss, own_pss, len(pids))


@dataclass(frozen=True)
class Peak:
    """A phase's peaks: of the whole tree, and of the tree without the bench process."""

    rss: int
    pss: int
    processes: int
    children_rss: int
    children_pss: int
    children_processes: int
    largest_process_bytes: int  # getrusage floor, since this process started

    @property
    def bytes(self) -> int:
        """The tree's sampled RSS peak; without /proc, the getrusage floor."""
        return self.rss or self.largest_process_bytes


class TreeMemory:
    """Samples the tree in a daemon thread; `phase(name)` records each phase's peaks."""

    def __init__(self, root: int | None = None, interval: float = DEFAULT_INTERVAL) -> None:
        self.root = root or os.getpid()
        self.interval = interval
        self.available = PROC.is_dir() and (PROC / str(self.root) / "statm").exists()
        self.samples: list[Sample] = []
        self.phases: dict[str, Peak] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> None:
        if self.available:
            self.samples.append(sample_tree(self.root))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> TreeMemory:
        self.sample()
        if self.available:
            self._thread = threading.Thread(target=self._loop, name="tree-memory", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sample()

    def __enter__(self) -> TreeMemory:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def peak_between(self, start: float, end: float) -> Peak:
        window = [s for s in self.samples if start <= s.at <= end]
        empty = Sample(0.0, 0, 0, 0, 0, 0)
        top = max(window, key=lambda s: s.rss, default=empty)
        top_children = max(window, key=lambda s: s.children_rss, default=empty)
        return Peak(
            rss=top.rss,
            pss=top.pss,
            processes=top.processes,
            children_rss=top_children.children_rss,
            children_pss=top_children.children_pss,
            children_processes=max(top_children.processes - 1, 0),
            largest_process_bytes=largest_process_bytes(),
        )

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.sample()
        start = time.monotonic()
        try:
            yield
        finally:
            self.sample()
            self.phases[name] = self.peak_between(start, time.monotonic())

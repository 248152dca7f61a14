"""The performance benchmark suite behind `make bench` (`python -m harness.benchmarks`).

It drives the real code: the code location's assets and checks are materialised in-process
(temp DuckDB, temp DAGSTER_HOME) against a cached synthetic site served on loopback, the bundled
site goes through `dagster job execute`, and the freshness latency is measured with
`dagster-daemon run`. See `suite` for the phases and README_SECTION.md for the figures.

    run_all(Options(listings=500), out=sys.stdout) -> dict   (also writes data/bench/results.json)
"""

from __future__ import annotations

from typing import Any

__all__ = ["Options", "run_all"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `npl bench parse` and `npl --help` do not import Dagster.
    if name in __all__:
        from harness.benchmarks import suite

        return getattr(suite, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

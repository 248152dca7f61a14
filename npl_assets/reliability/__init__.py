"""Reliability: recovery after a killed run, and the scenarios behind `make reliability`.

    recovery.py    frees the DuckDB pool slot of a run whose process was killed (kill -9, OOM,
                   power loss), so that the next run starts by itself instead of waiting forever
    scenarios/     crawl under faults, crashes at every step, concurrent runs and readers, fuzzed
                   PDFs, a hostile site, the privacy scan; each returns counts and problems
    runner.py      `python -m npl_assets.reliability`: runs them and prints one table

The scenarios are plain functions, so the tests (`npl_assets_tests/test_reliability_*.py`) run
the same code sized down."""

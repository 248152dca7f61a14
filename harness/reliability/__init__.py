"""Reliability: the scenarios behind `make reliability`. (The recovery they exercise, freeing
what a killed run left claimed, is product code: npl_assets/warehouse/recovery.py.)

    scenarios/     crawl under faults, crashes at every step, concurrent runs and readers, fuzzed
                   PDFs, a hostile site, the privacy scan; each returns counts and problems
    runner.py      `python -m harness.reliability`: runs them and prints one table

The scenarios are plain functions, so the tests (`npl_assets_tests/test_reliability_*.py`) run
the same code sized down."""

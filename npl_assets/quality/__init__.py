"""Data quality: expectation suites kept as code, run with Great Expectations Core 1.x.

- `rules`: the suites as plain data (no GX import), one `Rule` per expectation.
- `validation`: runs a suite over a DataFrame with GX and returns per-row failures.
- `marts`: the reconciliation frames the mart suites run on.
- `quarantine`: the `raw.listing_quarantine` table.
- `summary`: the readable markdown summary of a validation.
- `assets` / `asset_checks`: the Dagster side (the `listing_quarantine` asset and the asset checks).

Nothing here imports great_expectations at module level: it costs 2-3 s, and the code location
must load fast.
"""

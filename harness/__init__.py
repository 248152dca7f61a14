"""The test and measurement harness of npl-assets: the benchmark suite (`make bench`), the
reliability scenarios (`make reliability`) and the isolated platform they run on.

Not part of the product: the wheel ships `npl_assets` only, and `npl_assets` imports nothing
from here (an import-linter contract in pyproject.toml says so). Run from a checkout, e.g.
`python -m harness.benchmarks` or `python -m harness.reliability`."""

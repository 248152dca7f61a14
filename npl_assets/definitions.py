"""The code location: wiring only."""

import dagster as dg

from npl_assets.assets.documents import raw_documents
from npl_assets.assets.parsed import listings, results
from npl_assets.assets.serving import serving_database
from npl_assets.assets.transform import npl_dbt_models
from npl_assets.jobs import npl_pipeline
from npl_assets.resources import default_resources

defs = dg.Definitions(
    assets=[raw_documents, listings, results, npl_dbt_models, serving_database],
    jobs=[npl_pipeline],
    resources=default_resources(),
    # On two cores, per-step processes cost more than they save, and in-process steps also
    # serialise DuckDB writes within a run.
    executor=dg.in_process_executor,
)

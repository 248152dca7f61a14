"""The team profile's own parts (docs/team.md): the DuckLake warehouse resource, its Postgres
advisory lock, the local stand-ins for Postgres and S3, and `npl team`. Which profile is in force,
and its settings, is npl_assets/profiles.py's business."""

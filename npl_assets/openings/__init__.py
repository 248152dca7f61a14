"""Open listings for buyers: what can still be registered for, as of a time (no Dagster here)."""

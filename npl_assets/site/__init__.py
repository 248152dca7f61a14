"""The bundled Yindeng site: a faithful, deterministic local copy of the NPL disclosure section
(listing and result indexes, detail pages, PDF announcements), generated from the real 2023
dataset or from seeded synthetic data, and a loopback-only HTTP server with fault injection.

The generator shares no code and no label tables with `npl_assets.parsing`, so that a round trip
(generate, then parse) can catch a mistake in either."""

"""The quarterly market report Yindeng stopped publishing: per quarter, a self-contained HTML
page (and the same content as markdown) built from the marts only.

- `model`: the report's data as typed values; `data`: reads them from the marts;
  `render`/`charts`: pure functions to HTML, markdown and inline SVG; `build`: writes files;
  `cli`: `npl report`.
"""

from __future__ import annotations

from npl_assets.report.cli import register

__all__ = ["register"]

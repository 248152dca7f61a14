"""A stats collector that also writes the final stats as JSON (setting NPL_STATS_FILE), so the
runner reads counts from a file instead of scraping the log."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from scrapy.statscollectors import MemoryStatsCollector


class JsonFileStatsCollector(MemoryStatsCollector):
    def close_spider(self, spider: Any = None, reason: str | None = None) -> None:
        super().close_spider(spider, reason)
        target = self._crawler.settings.get("NPL_STATS_FILE")
        if not target:
            return
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        stats = {**self.get_stats(), "npl/close_reason": reason}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(stats, default=str, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)

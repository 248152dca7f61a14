"""Great Expectations as a resource. Importing GX costs 3 s on 2 cores (7 s on a first run, when
its bytecode is compiled); the resource starts that import in a background thread as a run's
resources are set up, so it overlaps the crawl (which waits on its spider subprocesses) instead
of delaying the first validation."""

from __future__ import annotations

import logging
import sys
import threading
import time

import dagster as dg
from pydantic import PrivateAttr

from npl_assets.quality.validation import import_gx

logger = logging.getLogger(__name__)


def gx_imported() -> bool:
    return "great_expectations" in sys.modules


def _import_in_background() -> None:
    try:
        import_gx()
    except Exception:
        # The validation step imports GX again in its own thread and fails there, with the
        # error in the step's log.
        logger.debug("background import of great_expectations failed", exc_info=True)


class GreatExpectationsResource(dg.ConfigurableResource):
    """Great Expectations for the steps that run a suite: with `preload`, GX is imported in the
    background from the moment the run's resources are set up; `ready()` waits for it."""

    preload: bool = True
    _loader: threading.Thread | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.preload and not gx_imported():
            self._loader = threading.Thread(
                target=_import_in_background, name="gx-import", daemon=True
            )
            self._loader.start()

    def ready(self) -> float:
        """Wait for the background import, if one is under way; the seconds waited. The suite
        then imports GX in the calling thread (at once when the import succeeded)."""
        if self._loader is None:
            return 0.0
        started = time.perf_counter()
        self._loader.join()
        return time.perf_counter() - started

"""The GX resource: its background import, and that the quarantine waits for it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import dagster as dg

from npl_assets.quality import engine
from npl_assets.settings import PROJECT_ROOT


def test_setup_imports_gx_in_the_background_and_ready_waits_for_it() -> None:
    # A fresh process: this worker may have imported GX already.
    code = textwrap.dedent(
        """
        import sys, threading
        import dagster as dg
        from npl_assets.quality.engine import GreatExpectationsResource

        assert "great_expectations" not in sys.modules
        resource = GreatExpectationsResource()
        with dg.build_resources({"gx": resource}) as built:
            loader = [t for t in threading.enumerate() if t.name == "gx-import"]
            assert loader, "no background import started"
            waited = built.gx.ready()
            assert "great_expectations.expectations" in sys.modules
            assert waited >= 0.0
            print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_without_preload_nothing_starts_and_ready_returns_at_once() -> None:
    with dg.build_resources({"gx": engine.GreatExpectationsResource(preload=False)}) as built:
        assert built.gx.ready() == 0.0


def test_a_failed_background_import_is_left_to_the_validation_step(monkeypatch) -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise ImportError("no great_expectations here")

    monkeypatch.setattr(engine, "import_gx", broken)
    monkeypatch.setattr(engine, "gx_imported", lambda: False)
    with dg.build_resources({"gx": engine.GreatExpectationsResource()}) as built:
        built.gx.ready()  # does not raise: the step's own import reports the error
    assert calls == [1]

"""dagster-dbt leaves a target folder per dbt invocation; the dbt asset keeps only the newest."""

from __future__ import annotations

import os
from pathlib import Path

from npl_assets.assets.transform import INVOCATION_PREFIX, prune_invocation_folders


def test_only_the_newest_invocation_folders_stay(tmp_path: Path) -> None:
    for age in range(15):
        folder = tmp_path / f"{INVOCATION_PREFIX}{age:03d}"
        folder.mkdir()
        (folder / "run_results.json").write_text("{}")
        os.utime(folder, (1_000_000 - age, 1_000_000 - age))  # 000 is the newest
    (tmp_path / "manifest.json").write_text("{}")  # the prepared manifest is not an invocation
    (tmp_path / "partial_parse.msgpack").write_text("")

    removed = prune_invocation_folders(tmp_path, keep=10)

    assert sorted(p.name for p in removed) == [f"{INVOCATION_PREFIX}{a:03d}" for a in range(10, 15)]
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(
        [f"{INVOCATION_PREFIX}{a:03d}" for a in range(10)]
        + ["manifest.json", "partial_parse.msgpack"]
    )


def test_a_missing_target_folder_is_fine(tmp_path: Path) -> None:
    assert prune_invocation_folders(tmp_path / "absent") == []

"""The package's structure, checked by tools: the import-linter contracts in pyproject.toml hold,
a wrong-way import breaks them (so the check can fail), and the wheel ships the product alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from npl_assets import settings

ROOT = settings.PROJECT_ROOT
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
COPIED = ("pyproject.toml", "README.md", "npl_assets", "harness")


def lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} missing: install the dev extra (make install)")
    # PYTHONPATH first: the packages analysed are the ones in `project`, not the editable
    # install's; --no-cache writes nothing into the folder.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_project(target: Path, extra: tuple[str, ...] = ()) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    target.mkdir(parents=True, exist_ok=True)
    for name in (*COPIED, *extra):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copyfile(source, target / name)
    return target


def test_the_import_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    for contract in ("Layers:", "knows neither Dagster nor Scrapy", "nothing from the harness"):
        assert contract in result.stdout


# (file in the copy, the line added to it, the contract that must break)
WRONG_WAY = {
    "parser imports dagster": (
        "npl_assets/parsing/normalize.py",
        "import dagster  # noqa",
        "The parser knows neither Dagster nor Scrapy BROKEN",
    ),
    "warehouse imports an asset": (
        "npl_assets/warehouse/schema.py",
        "from npl_assets.assets import documents  # noqa",
        "npl_assets.warehouse is not allowed to import npl_assets.assets",
    ),
    "product imports the harness": (
        "npl_assets/completeness.py",
        "import harness.isolation  # noqa",
        "The product imports nothing from the harness BROKEN",
    ),
    "site imports the parser": (
        "npl_assets/site/layout.py",
        "from npl_assets.parsing import normalize  # noqa",
        "The site generator and the parser share no code BROKEN",
    ),
    "a cycle inside quality": (
        "npl_assets/quality/rules.py",
        "from npl_assets.quality import asset_checks  # noqa",
        "(npl_assets' and each subpackage's) BROKEN",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_WAY))
def test_a_wrong_way_import_breaks_a_contract(case: str, tmp_path: Path) -> None:
    path, line, broken = WRONG_WAY[case]
    project = copy_project(tmp_path)
    assert lint_imports(project).returncode == 0  # the copy itself is clean
    target = project / path
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    result = lint_imports(project)
    assert result.returncode != 0, result.stdout
    assert broken in " ".join(result.stdout.split()), result.stdout


def test_the_wheel_ships_the_product_alone(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv not on PATH (make installs it)")
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    project = copy_project(tmp_path / "project", extra=("npl_assets_tests",))
    out = tmp_path / "dist"
    build = subprocess.run(
        [uv, "build", "--wheel", "--offline", "--out-dir", str(out), str(project)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if build.returncode != 0 and "offline" in build.stderr.lower():
        pytest.skip(f"setuptools not in uv's cache and no network: {build.stderr[-300:]}")
    assert build.returncode == 0, build.stderr
    (wheel,) = out.glob("npl_assets-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert top == {"npl_assets", f"{wheel.name.split('-py')[0]}.dist-info"}, top
    assert "npl_assets/definitions.py" in names
    assert "npl_assets/warehouse/recovery.py" in names
    assert "npl_assets/bench.py" in names  # the thin `npl bench parse`
    for left_out in ("harness/", "npl_assets_tests/", "benchmarks/", "reliability/", "isolation"):
        assert not [n for n in names if left_out in n], left_out

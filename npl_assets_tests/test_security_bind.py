"""Everything that listens binds to loopback by default (issue 7): the Makefile's Dagster UI, every
`dagster dev` / `dagster-webserver` start in the repository, and `npl site serve`. The site
server's refusal of other addresses is tested in test_site_server.py."""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

from npl_assets import settings

ROOT = settings.PROJECT_ROOT
WEB_START = re.compile(r"(dagster(?:-webserver|\s+dev)|dg\s+dev)\b(?P<args>[^\n]*)")
LOOPBACK_FLAG = re.compile(r"(?:-h|--host)[ =](?:127\.0\.0\.1|localhost|::1)\b")


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    suffixes = {".py", ".sh", ".yml", ".yaml", ".toml", ".cfg", ".md", ""}
    files = [ROOT / n for n in names if Path(n).suffix in suffixes or n == "Makefile"]
    return [f for f in files if f.is_file() and f.stat().st_size < 1_000_000]


def starts_of_the_ui(text: str) -> list[str]:
    """Command lines that start the Dagster UI with options (a continued line counts with its
    continuation); comments and prose such as "`dagster dev` then ..." are not commands. Without
    options both commands bind to 127.0.0.1 anyway."""
    joined = text.replace("\\\n", " ")
    lines = [line for line in joined.splitlines() if not line.lstrip().startswith("#")]
    return [
        m.group(0)
        for line in lines
        for m in WEB_START.finditer(line)
        if re.match(r"\s+-", m.group("args"))
    ]


def test_the_makefile_serves_the_ui_on_loopback() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    starts = starts_of_the_ui(makefile)
    assert starts, "the Makefile should start the Dagster UI (make dev)"
    assert all(LOOPBACK_FLAG.search(s) for s in starts), starts


def test_every_ui_start_in_the_repository_names_loopback() -> None:
    offenders = []
    for path in tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for start in starts_of_the_ui(text):
            if re.search(r"\s-(?:h|-host)\b", start) and not LOOPBACK_FLAG.search(start):
                offenders.append(f"{path.relative_to(ROOT)}: {start.strip()}")
    assert offenders == []


# The code-location image's code server listens on the container's own interfaces: inside a pod
# that network is the cluster's, and the webserver and daemon reach it only through it.
CONTAINER_CODE_SERVER = "deploy/Dockerfile"


def test_nothing_binds_to_all_interfaces() -> None:
    # Tests may name 0.0.0.0 to check that it is refused; code and configuration may not.
    pattern = re.compile(r"\b0\.0\.0\.0\b|(?:-h|--host)[ =]::\s")
    hits = [
        str(p.relative_to(ROOT))
        for p in tracked_text_files()
        if "npl_assets_tests" not in p.parts and pattern.search(p.read_text(errors="replace"))
    ]
    assert set(hits) <= {CONTAINER_CODE_SERVER}
    if hits:
        lines = (ROOT / CONTAINER_CODE_SERVER).read_text().splitlines()
        binding = [line for line in lines if pattern.search(line)]
        assert len(binding) == 1 and binding[0].startswith('CMD ["dagster", "code-server"')


def test_npl_site_serve_defaults_to_loopback() -> None:
    from npl_assets.site import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["site", "serve"])
    assert args.host == "127.0.0.1"

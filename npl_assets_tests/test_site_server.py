"""The loopback site server: binding, paths, headers, request counts and injected faults."""

from __future__ import annotations

import http.client
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from npl_assets.site.server import Faults, SiteServer

PDF = b"%PDF-1.4\n" + b"x" * 5000 + b"\n%%EOF\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    section = site / "xxpl" / "xxpl_bldkzr" / "bldkzr_zrgg" / "202312"
    section.mkdir(parents=True)
    (section.parent / "index.html").write_text("<html>列表</html>", encoding="utf-8")
    for n in range(300):
        (section / f"P0{n:03d}.pdf").write_bytes(PDF)
        (section / f"t20231207_{n:04d}.html").write_text("<p>详情</p>" * 50, encoding="utf-8")
    (site / "robots.txt").write_text("User-agent: *\nDisallow: /admin/\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("outside the root", encoding="utf-8")
    return site


def raw_get(base_url: str, path: str) -> tuple[int, bytes]:
    """GET a path exactly as written (no client-side normalisation of '..')."""
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com", ""])
def test_refuses_non_loopback_hosts(root: Path, host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        SiteServer(root, host=host)


def test_serves_files_with_type_and_length_on_loopback(root: Path) -> None:
    with SiteServer(root) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{server.base_url}/xxpl/xxpl_bldkzr/bldkzr_zrgg/") as r:
            assert r.headers["Content-Type"] == "text/html; charset=utf-8"
            assert r.read().decode("utf-8") == "<html>列表</html>"
        url = f"{server.base_url}/xxpl/xxpl_bldkzr/bldkzr_zrgg/202312/P0007.pdf"
        with urllib.request.urlopen(url) as r:
            assert r.headers["Content-Type"] == "application/pdf"
            assert int(r.headers["Content-Length"]) == len(PDF) and r.read() == PDF
        old = "/ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrgg/202312/P0007.pdf"
        assert raw_get(server.base_url, old) == (200, PDF)
        assert raw_get(server.base_url, "/robots.txt")[0] == 200
        assert raw_get(server.base_url, "/xxpl/missing.html")[0] == 404
        assert server.requests["/robots.txt"] == 1
        assert server.request_count == 5
        assert [r.status for r in server.log] == [200, 200, 200, 200, 404]


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/xxpl/../../secret.txt",
        "/xxpl/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/ywzq/ywzq_bldkzr/bldkzr_xxpl/bldkzr_xxpl_zrgg/../../../../../secret.txt",
    ],
)
def test_never_serves_outside_the_root(root: Path, path: str) -> None:
    with SiteServer(root) as server:
        status, body = raw_get(server.base_url, path)
    assert status == 404 and b"outside" not in body


def test_symlinks_out_of_the_root_are_not_followed(root: Path) -> None:
    os.symlink(root.parent / "secret.txt", root / "link.txt")
    with SiteServer(root) as server:
        assert raw_get(server.base_url, "/link.txt")[0] == 404


def test_fault_decisions_are_seeded_and_near_their_rates() -> None:
    faults = Faults(error_rate=0.2, slow_rate=0.1, truncate_rate=0.1, not_found_rate=0.05, seed=3)
    paths = [f"/a/{n}.pdf" for n in range(4000)]
    decided = [faults.decide(p, 0) for p in paths]
    assert decided == [faults.decide(p, 0) for p in paths]
    share = {k: sum(k in d for d in decided) / len(paths) for k in ("error", "not_found", "slow")}
    assert 0.03 < share["not_found"] < 0.07
    assert 0.15 < share["error"] < 0.25
    assert 0.07 < share["slow"] < 0.13
    # Another seed decides differently; a later attempt is an independent draw.
    other = Faults(error_rate=0.2, seed=4)
    assert [other.decide(p, 0) for p in paths] != decided
    errors = [p for p, d in zip(paths, decided, strict=True) if "error" in d]
    assert sum("error" in faults.decide(p, 1) for p in errors) < len(errors) * 0.4


def test_not_found_is_permanent_and_only_for_pdfs() -> None:
    faults = Faults(not_found_rate=0.5)
    pdfs = [f"/x/{n}.pdf" for n in range(200)]
    missing = [p for p in pdfs if faults.decide(p, 0) == ["not_found"]]
    assert 60 < len(missing) < 140
    assert all(faults.decide(p, attempt) == ["not_found"] for p in missing for attempt in (1, 5))
    assert not any(faults.decide(f"/x/{n}.html", 0) for n in range(200))
    assert Faults(error_rate=1.0).decide("/robots.txt", 0) == []


def test_rates_must_be_shares() -> None:
    with pytest.raises(ValueError, match="error_rate"):
        Faults(error_rate=1.5)


def test_served_errors_happen_at_about_the_rate_and_retries_succeed(root: Path) -> None:
    paths = [f"/xxpl/xxpl_bldkzr/bldkzr_zrgg/202312/t20231207_{n:04d}.html" for n in range(300)]
    with SiteServer(root, faults=Faults(error_rate=0.3, seed=1)) as server:
        statuses = [raw_get(server.base_url, p)[0] for p in paths]
        failed = [p for p, s in zip(paths, statuses, strict=True) if s == 500]
        assert 60 <= len(failed) <= 120, len(failed)
        assert set(statuses) == {200, 500}
        for path in failed:
            for _ in range(10):
                if raw_get(server.base_url, path)[0] == 200:
                    break
            else:
                pytest.fail(f"{path} never succeeded in 10 retries")
        assert server.request_count > 300
        assert all(server.requests[p] >= 2 for p in failed)


def test_same_seed_gives_the_same_faults_on_every_run(root: Path) -> None:
    paths = [f"/xxpl/xxpl_bldkzr/bldkzr_zrgg/202312/P0{n:03d}.pdf" for n in range(60)]
    runs = []
    for _ in range(2):
        with SiteServer(root, faults=Faults(error_rate=0.3, not_found_rate=0.2, seed=9)) as server:
            runs.append([raw_get(server.base_url, p)[0] for p in paths])
    assert runs[0] == runs[1]
    assert {404, 500, 200} <= set(runs[0])


def test_truncated_bodies_are_detectable(root: Path) -> None:
    paths = [f"/xxpl/xxpl_bldkzr/bldkzr_zrgg/202312/P0{n:03d}.pdf" for n in range(40)]
    short = 0
    with SiteServer(root, faults=Faults(truncate_rate=1.0)) as server:
        for path in paths:
            try:
                with urllib.request.urlopen(server.base_url + path, timeout=10) as r:
                    body = r.read()
            except http.client.IncompleteRead:
                short += 1
                continue
            assert len(body) < len(PDF) and not body.rstrip().endswith(b"%%EOF")
            short += 1
    assert short == len(paths)


def test_slow_answers_wait(root: Path) -> None:
    with SiteServer(root, faults=Faults(slow_rate=1.0, slow_seconds=0.3)) as server:
        started = time.perf_counter()
        status, _ = raw_get(server.base_url, "/xxpl/xxpl_bldkzr/bldkzr_zrgg/")
        assert status == 200 and time.perf_counter() - started >= 0.3


def test_faults_are_off_by_default(root: Path) -> None:
    with SiteServer(root) as server:
        statuses = {
            raw_get(server.base_url, f"/xxpl/xxpl_bldkzr/bldkzr_zrgg/202312/P0{n:03d}.pdf")[0]
            for n in range(50)
        }
    assert statuses == {200}


def test_stop_releases_the_port(root: Path) -> None:
    server = SiteServer(root).start()
    base = server.base_url
    server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(base + "/robots.txt", timeout=2)


def test_a_slow_answer_is_in_flight_until_it_is_logged(root: Path) -> None:
    import threading

    with SiteServer(root, faults=Faults(slow_rate=1.0, slow_seconds=0.5)) as server:
        path = "/xxpl/xxpl_bldkzr/bldkzr_zrgg/202312/P0001.pdf"
        thread = threading.Thread(target=raw_get, args=(server.base_url, path))
        thread.start()
        deadline = time.monotonic() + 5
        while server.in_flight() == 0:
            assert time.monotonic() < deadline, "the request never arrived"
            time.sleep(0.01)
        assert server.in_flight() == 1 and server.log == []
        thread.join()
        assert server.in_flight() == 0 and [r.path for r in server.log] == [path]

"""Buyer alerts end to end on loopback: a webhook receiver (http.server, port 0) and an SMTP
server (aiosmtpd, port 0), the sensor driven with dg.build_sensor_context like the daemon would,
listings published to a serving file as the pipeline does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from aiosmtpd.controller import Controller

from npl_assets.alerts import engine
from npl_assets.alerts.messages import build_message, webhook_request
from npl_assets.alerts.rules import RuleFileError, load_rules, parse_rules
from npl_assets.alerts.sensor import AlertsResource, open_listing_alerts_sensor
from npl_assets.openings.clock import parse_as_of

AS_OF = "2023-06-01"
CF = "马上消费金融股份有限公司"
BANK = "河北银行股份有限公司"


def listing(label: str, **overrides) -> dict:
    row = {
        "sha256": hashlib.sha256(label.encode()).hexdigest(),
        "project_id": hashlib.md5(label.encode()).hexdigest(),
        "project_name": f"{CF}关于2023年第{label}期个人消费信用不良贷款转让项目",
        "title": f"{CF}关于2023年第{label}期个人消费信用不良贷款转让项目不良贷款转让公告",
        "is_relisting": False,
        "seller": CF,
        "seller_type": "消费金融公司",
        "asset_type": "个人消费贷款",
        "unpaid_total_yuan": Decimal("250000000.00"),
        "borrowers": 12000,
        "weighted_avg_overdue_days": Decimal("900.00"),
        "starting_price_yuan": Decimal("12500000.00"),
        "registration_deadline": datetime(2023, 6, 12, 15, 0),
        "bid_date": date(2023, 6, 19),
        "publication_date": date(2023, 5, 29),
        "listing_date": date(2023, 5, 29),
        "announcement_url": f"http://127.0.0.1/xxpl/t20230529_{label}.html",
        "announcement_pdf_url": f"http://127.0.0.1/xxpl/{label}.pdf",
    }
    row.update(overrides)
    return row


def publish(serving: Path, rows: list[dict]) -> None:
    """Replace the serving file atomically, as serving_database does."""
    tmp = serving.with_name(serving.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(
            """create table stg_listings (
                sha256 varchar, project_id varchar, project_name varchar, title varchar,
                is_relisting boolean, seller varchar, seller_type varchar, asset_type varchar,
                unpaid_total_yuan decimal(18,2), borrowers integer,
                weighted_avg_overdue_days decimal(12,2), starting_price_yuan decimal(18,2),
                registration_deadline timestamp, bid_date date, publication_date date,
                listing_date date, announcement_url varchar, announcement_pdf_url varchar)"""
        )
        for row in rows:
            con.execute(
                f"insert into stg_listings ({', '.join(row)}) values ({', '.join('?' * len(row))})",
                list(row.values()),
            )
    finally:
        con.close()
    os.replace(tmp, serving)


class Receiver:
    """A loopback incoming-webhook endpoint that fails the first `fail_first` requests."""

    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[dict] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {"path": self.path, "json": json.loads(body.decode("utf-8"))}
                )
                failing = len(receiver.requests) <= receiver.fail_first
                answer = b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/cgi-bin/webhook/send?key=SECRET-KEY-123"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


class LoopbackController(Controller):
    """aiosmtpd's Controller on an ephemeral port: its start-up probe needs the bound port."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    controller = LoopbackController(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


RULES = """
rules:
  - name: consumer-finance
    filters:
      seller_type: 消费金融公司
      min_total_yuan: 100000000
    destinations:
      - webhook: wecom
        url_env: NPL_TEST_WECOM_URL
  - name: big-packages-by-mail
    filters:
      min_total_yuan: 50000000
      max_overdue_days: 1200
    destinations:
      - email:
          host: 127.0.0.1
          port: {port}
          from: alerts@example.test
          to: [buyers@example.test]
  - name: credit-cards
    filters:
      asset_type: 信用卡透支
    destinations:
      - webhook: generic
        url_env: NPL_TEST_WECOM_URL
"""


class Platform:
    """The sensor's world: a serving file, a rule file, a delivery table and an instance."""

    def __init__(self, tmp: Path, rules: str, **resource) -> None:
        self.serving = tmp / "npl_serving.duckdb"
        self.rules = tmp / "alerts.yaml"
        self.rules.write_text(rules, encoding="utf-8")
        self.state = tmp / "alerts.sqlite"
        self.instance = dg.DagsterInstance.ephemeral()
        self.resource_args = {
            "rules_path": str(self.rules),
            "state_path": str(self.state),
            "serving_path": str(self.serving),
            "as_of": AS_OF,
            **resource,
        }
        self.cursor: str | None = None

    def publish(self, rows: list[dict]) -> None:
        publish(self.serving, rows)
        # what serving_database's materialization tells the sensor
        self.instance.report_runless_asset_event(dg.AssetMaterialization("serving_database"))

    def tick(self, cursor: str | type | None = ...) -> dg.SkipReason:
        """One evaluation in a fresh context (as the daemon makes one per tick); cursor=None
        is a daemon that lost its cursor."""
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor if cursor is ... else cursor,
            resources={"alerts": AlertsResource(**self.resource_args)},
        )
        result = open_listing_alerts_sensor(context)
        self.cursor = context.cursor
        assert isinstance(result, dg.SkipReason)
        return result

    def deliveries(self) -> list[tuple]:
        con = sqlite3.connect(str(self.state))
        try:
            return con.execute(
                "select rule, destination, listing_sha256, status, attempts from deliveries"
                " order by rule"
            ).fetchall()
        finally:
            con.close()


@pytest.fixture
def wecom_env(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> Receiver:
    monkeypatch.setenv("NPL_TEST_WECOM_URL", receiver.url)
    return receiver


def test_new_matching_listing_sends_one_message_per_rule(
    tmp_path: Path, wecom_env: Receiver, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    platform = Platform(tmp_path, RULES.replace("{port}", str(port)))
    platform.publish([listing("1")])
    first = platform.tick()
    # the listings already published when a rule appears are its baseline, not news
    assert "start from the listings already published" in first.skip_message
    assert wecom_env.requests == [] and inbox.messages == []

    new = listing("2")
    platform.publish([listing("1"), new])
    result = platform.tick()
    assert "sent 2" in result.skip_message, result.skip_message
    # consumer-finance → WeCom, big-packages-by-mail → e-mail; credit-cards does not match
    assert len(wecom_env.requests) == 1
    body = wecom_env.requests[0]["json"]
    assert body["msgtype"] == "markdown"
    assert new["project_name"] in body["markdown"]["content"]
    assert "2.50亿元" in body["markdown"]["content"]
    assert new["announcement_url"] in body["markdown"]["content"]
    assert len(inbox.messages) == 1
    mail = inbox.messages[0].decode("utf-8", errors="replace")
    assert "buyers@example.test" in mail
    assert {(r[0], r[3], r[4]) for r in platform.deliveries()} == {
        ("consumer-finance", "sent", 1),
        ("big-packages-by-mail", "sent", 1),
    }

    # later ticks and later publishes of the same listing send nothing more
    platform.tick()
    platform.publish([listing("1"), new])
    assert platform.tick().skip_message == "no new matching listing"
    assert len(wecom_env.requests) == 1 and len(inbox.messages) == 1


def test_non_matching_and_closed_listings_send_nothing(tmp_path: Path, wecom_env: Receiver) -> None:
    rules = RULES.split("  - name: big-packages-by-mail")[0]
    platform = Platform(tmp_path, rules)
    platform.publish([listing("1")])
    platform.tick()
    small = listing("3", unpaid_total_yuan=Decimal("9000000.00"))  # below min_total_yuan
    bank = listing("4", seller=BANK, seller_type="城商行")  # wrong seller type
    closed = listing("5", registration_deadline=datetime(2023, 5, 31, 15, 0))  # before as_of
    platform.publish([listing("1"), small, bank, closed])
    assert platform.tick().skip_message == "no new matching listing"
    assert wecom_env.requests == []
    assert platform.deliveries() == []
    con = sqlite3.connect(str(platform.state))
    outcomes = dict(
        con.execute("select listing_sha256, outcome from seen_listings where outcome <> 'baseline'")
    )
    con.close()
    assert outcomes == {
        small["sha256"]: "no_match",
        bank["sha256"]: "no_match",
        closed["sha256"]: "closed",
    }


def test_a_receiver_that_fails_twice_gets_it_on_the_third_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = RULES.split("  - name: big-packages-by-mail")[0]
    with Receiver(fail_first=2) as flaky:
        monkeypatch.setenv("NPL_TEST_WECOM_URL", flaky.url)
        platform = Platform(tmp_path, rules, retry_base_seconds=0.0)
        platform.publish([])
        platform.tick()
        platform.publish([listing("6")])
        first = platform.tick()
        assert "1 attempt(s) failed" in first.skip_message and "HTTP 500" in first.skip_message
        assert platform.deliveries()[0][3:] == ("pending", 1)
        platform.tick()
        assert platform.deliveries()[0][3:] == ("pending", 2)
        third = platform.tick()
        assert "sent 1" in third.skip_message and "(attempt 3)" in third.skip_message
        platform.tick()
        assert len(flaky.requests) == 3
        assert platform.deliveries()[0][3:] == ("sent", 3)
    con = sqlite3.connect(str(platform.state))
    attempts = con.execute("select attempt, ok from delivery_attempts order by attempt").fetchall()
    con.close()
    assert attempts == [(1, 0), (2, 0), (3, 1)]


def test_backoff_waits_between_attempts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = RULES.split("  - name: big-packages-by-mail")[0]
    with Receiver(fail_first=1) as flaky:
        monkeypatch.setenv("NPL_TEST_WECOM_URL", flaky.url)
        platform = Platform(tmp_path, rules, retry_base_seconds=3600.0)
        platform.publish([])
        platform.tick()
        platform.publish([listing("7")])
        platform.tick()
        waiting = platform.tick()
        # the retry is an hour away: the next tick does not hammer the receiver
        assert len(flaky.requests) == 1
        assert "1 waiting to be retried, next in" in waiting.skip_message


def test_restart_between_crawl_and_delivery_sends_once(tmp_path: Path, wecom_env: Receiver) -> None:
    rules = RULES.split("  - name: big-packages-by-mail")[0]
    platform = Platform(tmp_path, rules)
    platform.publish([listing("1")])
    platform.tick()
    # a crawl publishes a new listing; the daemon dies before its next tick and comes back
    # with no cursor (new process state): it must still send, once
    platform.publish([listing("1"), listing("8")])
    platform.tick(cursor=None)
    assert len(wecom_env.requests) == 1
    platform.tick(cursor=None)
    platform.tick(cursor=None)
    assert len(wecom_env.requests) == 1

    # dying after the alert was queued but before it was delivered loses nothing either
    platform.publish([listing("1"), listing("8"), listing("9")])
    engine.scan(
        platform.state,
        load_rules(platform.rules),
        engine.read_listings(platform.serving),
        parse_as_of(AS_OF),
        engine.PassReport(),
    )
    assert len(wecom_env.requests) == 1
    result = platform.tick(cursor=None)
    assert "sent 1" in result.skip_message
    platform.tick(cursor=None)
    assert len(wecom_env.requests) == 2
    assert [r[3:] for r in platform.deliveries()] == [("sent", 1), ("sent", 1)]


def test_secrets_stay_out_of_the_delivery_table_and_ticks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = RULES.split("  - name: big-packages-by-mail")[0]
    # nothing listens on port 1: every attempt fails with the URL (and its key) in the error
    monkeypatch.setenv("NPL_TEST_WECOM_URL", "http://127.0.0.1:1/send?key=TOP-SECRET-KEY")
    platform = Platform(tmp_path, rules, retry_base_seconds=0.0, max_attempts=2)
    platform.publish([])
    platform.tick()
    platform.publish([listing("10")])
    messages = [platform.tick().skip_message, platform.tick().skip_message]
    assert "gave up on 1" in messages[1]
    assert platform.deliveries()[0][3:] == ("failed", 2)
    assert not any("TOP-SECRET-KEY" in m for m in messages)
    for path in tmp_path.iterdir():
        if path.name.startswith("alerts.sqlite"):
            assert b"TOP-SECRET-KEY" not in path.read_bytes()


def test_a_missing_secret_is_a_failed_attempt_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NPL_TEST_WECOM_URL", raising=False)
    platform = Platform(tmp_path, RULES.split("  - name: big-packages-by-mail")[0])
    platform.publish([])
    platform.tick()
    platform.publish([listing("11")])
    result = platform.tick()
    assert "environment variable NPL_TEST_WECOM_URL is not set" in result.skip_message


def test_no_rule_file_skips_quietly(tmp_path: Path) -> None:
    platform = Platform(tmp_path, "")
    platform.rules.unlink()
    assert "no alert rules" in platform.tick().skip_message


def test_rule_file_refuses_inline_secrets_and_unknown_keys() -> None:
    inline = {"rules": [{"name": "x", "destinations": [{"webhook": "wecom", "url": "http://h"}]}]}
    with pytest.raises(RuleFileError, match="environment variable"):
        parse_rules(inline)
    typo = {
        "rules": [
            {
                "name": "x",
                "filters": {"min_total": 1},
                "destinations": [{"webhook": "wecom", "url_env": "X"}],
            }
        ]
    }
    with pytest.raises(RuleFileError, match="unknown key"):
        parse_rules(typo)
    with pytest.raises(RuleFileError, match="webhook must be one of"):
        parse_rules({"rules": [{"name": "x", "destinations": [{"webhook": "slack"}]}]})
    with pytest.raises(RuleFileError, match="password"):
        parse_rules(
            {
                "rules": [
                    {
                        "name": "x",
                        "destinations": [
                            {"email": {"host": "h", "from": "a", "to": "b", "password": "p"}}
                        ],
                    }
                ]
            }
        )


def test_bot_payload_shapes_and_signatures() -> None:
    message = build_message("r", listing("12"), parse_as_of(AS_OF))
    url = "https://bot.example/send?access_token=abc"
    _, wecom = webhook_request("wecom", "r", message, url)
    assert set(wecom) == {"msgtype", "markdown"} and wecom["markdown"]["content"]
    assert "（还剩 11 天）" in wecom["markdown"]["content"]

    moment = 1700000000.5
    signed, ding = webhook_request("dingtalk", "r", message, url, secret="SEC", now_epoch=moment)
    assert ding == {
        "msgtype": "markdown",
        "markdown": {"title": message.title, "text": message.markdown},
    }
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(signed).query)
    assert query["access_token"] == ["abc"] and query["timestamp"] == ["1700000000500"]
    expected = hmac.new(b"SEC", b"1700000000500\nSEC", hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(expected).decode()]

    _, feishu = webhook_request("feishu", "r", message, url, secret="SEC", now_epoch=moment)
    assert feishu["msg_type"] == "text" and feishu["content"] == {"text": message.text}
    expected = hmac.new(b"1700000000\nSEC", b"", hashlib.sha256).digest()
    assert (feishu["timestamp"], feishu["sign"]) == (
        "1700000000",
        base64.b64encode(expected).decode(),
    )

    _, generic = webhook_request("generic", "r", message, url)
    assert generic["rule"] == "r" and generic["listing"]["unpaid_total_yuan"] == "250000000.00"


def test_the_sensor_is_in_the_code_location() -> None:
    from npl_assets.definitions import defs

    assert defs.resolve_sensor_def("open_listing_alerts_sensor") is not None


CHILD_TICK = """
import json, sys
import dagster as dg
from npl_assets.alerts.sensor import AlertsResource, open_listing_alerts_sensor
context = dg.build_sensor_context(
    instance=dg.DagsterInstance.ephemeral(),
    resources={"alerts": AlertsResource(**json.loads(sys.argv[1]))},
)
print(open_listing_alerts_sensor(context).skip_message)
"""


@pytest.mark.slow
def test_a_new_process_after_the_crawl_sends_once(tmp_path: Path, wecom_env: Receiver) -> None:
    """The daemon's process dies after a crawl published a new listing: each new process (a
    fresh instance, no cursor, nothing in memory) finds the delivery table and sends it once."""
    import subprocess
    import sys

    platform = Platform(tmp_path, RULES.split("  - name: big-packages-by-mail")[0])
    platform.publish([listing("1")])
    platform.tick()
    platform.publish([listing("1"), listing("13")])

    def child_tick() -> str:
        return subprocess.run(
            [sys.executable, "-c", CHILD_TICK, json.dumps(platform.resource_args)],
            capture_output=True, text=True, check=True, timeout=120,
            env={**os.environ, "NPL_TEST_WECOM_URL": wecom_env.url},
        ).stdout.strip()  # fmt: skip

    assert "sent 1" in child_tick()
    assert child_tick() == "no new matching listing"
    assert len(wecom_env.requests) == 1

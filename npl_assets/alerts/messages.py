"""What an alert says, and the JSON each bot expects. Pure functions: no network here.

Payload shapes (the bots' documented custom-robot formats):
- WeCom 企业微信 group bot: {"msgtype": "markdown", "markdown": {"content": ...}} (≤ 4096 bytes)
- DingTalk 钉钉 custom robot: {"msgtype": "markdown", "markdown": {"title": ..., "text": ...}};
  with 加签, `timestamp` (ms) and `sign` = base64(HMAC-SHA256(key=secret, "{ts}\\n{secret}"))
  go in the URL's query
- Feishu 飞书 custom bot: {"msg_type": "text", "content": {"text": ...}}; with 签名校验,
  `timestamp` (s) and `sign` = base64(HMAC-SHA256(key="{ts}\\n{secret}", b"")) go in the body
- generic: {"rule", "title", "text", "markdown", "listing": {...}}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

WECOM_MAX_BYTES = 4096


@dataclass(frozen=True)
class Message:
    title: str
    text: str  # plain text (e-mail, Feishu text)
    markdown: str  # WeCom / DingTalk markdown
    listing: dict[str, Any]  # JSON-ready facts (generic payload)


def _yuan(value: Any) -> str:
    if value is None:
        return "未披露"
    amount = Decimal(str(value))
    if amount >= Decimal(100_000_000):
        short = f"{amount / Decimal(100_000_000):.2f}亿元"
    elif amount >= Decimal(10_000):
        short = f"{amount / Decimal(10_000):.2f}万元"
    else:
        short = f"{amount:.2f}元"
    return f"{short}（{amount:,.2f} 元）"


def _when(value: Any) -> str:
    if value is None:
        return "未知"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def build_message(rule_name: str, listing: dict[str, Any], now: datetime) -> Message:
    """One listing, as one alert of one rule."""
    deadline = listing.get("registration_deadline")
    left = ""
    if isinstance(deadline, datetime):
        days = (deadline.date() - now.date()).days
        left = f"（还剩 {days} 天）" if days > 0 else "（今天截止）" if days == 0 else "（已截止）"
    total, price = listing.get("unpaid_total_yuan"), listing.get("starting_price_yuan")
    ratio = ""
    if total and price is not None:
        ratio = f"，起始价/未偿本息 {Decimal(str(price)) / Decimal(str(total)):.1%}"
    kind = "重新挂牌" if listing.get("is_relisting") else "新挂牌"
    title = f"【{kind}】{listing.get('project_name')}"
    overdue = listing.get("weighted_avg_overdue_days")
    borrowers = listing.get("borrowers")
    facts = [
        ("出让方", f"{listing.get('seller')}（{listing.get('seller_type') or '未分类'}）"),
        ("资产类型", listing.get("asset_type") or "未知"),
        ("未偿本息总额", _yuan(total)),
        ("借款人户数", borrowers if borrowers is not None else "未知"),
        ("加权平均逾期天数", overdue if overdue is not None else "未披露"),
        ("起始价", _yuan(price) + ratio),
        ("竞价报名截止时间", _when(deadline) + left),
        ("竞价日", _when(listing.get("bid_date"))),
        ("公告日期", _when(listing.get("publication_date") or listing.get("listing_date"))),
    ]
    url = listing.get("announcement_url") or listing.get("announcement_pdf_url")
    text_lines = [f"{title}", f"提醒规则：{rule_name}"] + [f"{k}：{v}" for k, v in facts]
    md_lines = [f"### {title}", f"> 提醒规则：{rule_name}", ""] + [
        f"- **{k}**：{v}" for k, v in facts
    ]
    if url:
        text_lines.append(f"公告：{url}")
        md_lines.append(f"\n[查看公告]({url})")
    listing_json = {
        key: _json(listing.get(key))
        for key in (
            "listing_sha256", "project_id", "project_name", "title", "seller", "seller_type",
            "asset_type", "unpaid_total_yuan", "borrowers", "weighted_avg_overdue_days",
            "starting_price_yuan", "registration_deadline", "bid_date", "publication_date",
            "announcement_url",
        )
    }  # fmt: skip
    return Message(title, "\n".join(text_lines), "\n".join(md_lines), listing_json)


def _truncate_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "..."


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_request(
    kind: str,
    rule_name: str,
    message: Message,
    url: str,
    secret: str | None = None,
    now_epoch: float = 0.0,
) -> tuple[str, dict[str, Any]]:
    """The URL to POST to and the JSON body, for one bot kind."""
    if kind == "wecom":
        return url, {
            "msgtype": "markdown",
            "markdown": {"content": _truncate_bytes(message.markdown, WECOM_MAX_BYTES)},
        }
    if kind == "dingtalk":
        if secret:
            ts = int(now_epoch * 1000)
            query = urllib.parse.urlencode({"timestamp": ts, "sign": dingtalk_sign(secret, ts)})
            url = f"{url}{'&' if '?' in url else '?'}{query}"
        return url, {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": message.markdown},
        }
    if kind == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": message.text}}
        if secret:
            ts = int(now_epoch)
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
        return url, body
    if kind == "generic":
        return url, {
            "rule": rule_name,
            "title": message.title,
            "text": message.text,
            "markdown": message.markdown,
            "listing": message.listing,
        }
    raise ValueError(f"unknown webhook kind {kind!r}")


def bot_error(kind: str, body: Any) -> str | None:
    """The bots answer HTTP 200 with an error code in the body: a non-zero code is a failure."""
    if not isinstance(body, dict):
        return None
    if kind in ("wecom", "dingtalk") and body.get("errcode") not in (None, 0):
        return f"errcode {body.get('errcode')}: {body.get('errmsg')}"
    if kind == "feishu":
        code = body.get("code", body.get("StatusCode"))
        if code not in (None, 0):
            return f"code {code}: {body.get('msg') or body.get('StatusMessage')}"
    return None

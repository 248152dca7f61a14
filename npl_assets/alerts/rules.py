"""The rule file: which new listings a buyer wants to hear about, and where to send them.
Secrets never sit in the file: a destination names the environment variable that holds them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from npl_assets.openings.query import Filters

WEBHOOK_KINDS = ("wecom", "dingtalk", "feishu", "generic")
_FILTER_KEYS = {
    "seller_type",
    "asset_type",
    "min_total_yuan",
    "max_overdue_days",
    "only_open",
}


class RuleFileError(ValueError):
    """The rule file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class WebhookDestination:
    name: str
    kind: str  # one of WEBHOOK_KINDS: the payload shape
    url_env: str
    secret_env: str | None = None  # DingTalk / Feishu signing secret


@dataclass(frozen=True)
class EmailDestination:
    name: str
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password_env: str | None = None


Destination = WebhookDestination | EmailDestination


@dataclass(frozen=True)
class Rule:
    name: str
    filters: Filters
    destinations: tuple[Destination, ...]
    # A listing whose registration deadline has passed when it is first seen is not news.
    only_open: bool = True
    secret_envs: tuple[str, ...] = field(default=())


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise RuleFileError(f"{where}: expected a string or a list of strings, got {value!r}")


def _number(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise RuleFileError(f"{where}: expected a number, got {value!r}")
    try:
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation as exc:
        raise RuleFileError(f"{where}: expected a number, got {value!r}") from exc


def _env_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.replace("_", "").isalnum():
        raise RuleFileError(
            f"{where}: expected the NAME of an environment variable (the secret itself never "
            f"goes in the rule file), got {value!r}"
        )
    return value


def _destination(raw: Any, where: str, index: int) -> Destination:
    if not isinstance(raw, dict):
        raise RuleFileError(f"{where}: a destination is a mapping, got {raw!r}")
    if "webhook" in raw:
        kind = raw["webhook"]
        if kind not in WEBHOOK_KINDS:
            raise RuleFileError(f"{where}: webhook must be one of {', '.join(WEBHOOK_KINDS)}")
        if "url" in raw:
            raise RuleFileError(f"{where}: put the URL in an environment variable (url_env)")
        unknown = set(raw) - {"webhook", "url_env", "secret_env", "name"}
        if unknown:
            raise RuleFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        return WebhookDestination(
            name=str(raw.get("name") or f"{kind}{index}"),
            kind=kind,
            url_env=_env_name(raw.get("url_env"), f"{where}.url_env"),
            secret_env=(
                _env_name(raw["secret_env"], f"{where}.secret_env")
                if raw.get("secret_env")
                else None
            ),
        )
    if "email" in raw:
        mail = raw["email"]
        if not isinstance(mail, dict):
            raise RuleFileError(f"{where}.email: expected a mapping")
        if "password" in mail:
            raise RuleFileError(f"{where}.email: put the password in an environment variable")
        unknown = set(mail) - {
            "host", "port", "from", "to", "starttls", "ssl", "username", "password_env", "name"
        }  # fmt: skip
        if unknown:
            raise RuleFileError(f"{where}.email: unknown key(s) {', '.join(sorted(unknown))}")
        for key in ("host", "from", "to"):
            if not mail.get(key):
                raise RuleFileError(f"{where}.email: '{key}' is required")
        try:
            port = int(mail.get("port", 25))
        except (TypeError, ValueError) as exc:
            raise RuleFileError(f"{where}.email.port: not a port number") from exc
        return EmailDestination(
            name=str(mail.get("name") or raw.get("name") or f"email{index}"),
            host=str(mail["host"]),
            port=port,
            sender=str(mail["from"]),
            to=_strings(mail["to"], f"{where}.email.to"),
            starttls=bool(mail.get("starttls", False)),
            ssl=bool(mail.get("ssl", False)),
            username=mail.get("username"),
            password_env=(
                _env_name(mail["password_env"], f"{where}.email.password_env")
                if mail.get("password_env")
                else None
            ),
        )
    raise RuleFileError(f"{where}: a destination needs 'webhook: <kind>' or 'email:'")


def parse_rules(document: Any, origin: str = "rule file") -> list[Rule]:
    if document is None:
        return []
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise RuleFileError(f"{origin}: expected a top-level 'rules:' list")
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, raw in enumerate(document["rules"]):
        where = f"{origin}: rules[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
            raise RuleFileError(f"{where}: every rule needs a name")
        name = raw["name"]
        where = f"{origin}: rule {name!r}"
        if name in seen:
            raise RuleFileError(f"{where}: the name is used twice (it keys the delivery table)")
        seen.add(name)
        unknown = set(raw) - {"name", "filters", "destinations"}
        if unknown:
            raise RuleFileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        flt = raw.get("filters") or {}
        if not isinstance(flt, dict):
            raise RuleFileError(f"{where}.filters: expected a mapping")
        bad = set(flt) - _FILTER_KEYS
        if bad:
            raise RuleFileError(
                f"{where}.filters: unknown key(s) {', '.join(sorted(bad))} "
                f"(known: {', '.join(sorted(_FILTER_KEYS))})"
            )
        filters = Filters(
            seller_types=_strings(flt.get("seller_type"), f"{where}.filters.seller_type"),
            asset_types=_strings(flt.get("asset_type"), f"{where}.filters.asset_type"),
            min_total_yuan=_number(flt.get("min_total_yuan"), f"{where}.filters.min_total_yuan"),
            max_overdue_days=_number(
                flt.get("max_overdue_days"), f"{where}.filters.max_overdue_days"
            ),
        )
        raw_dest = raw.get("destinations")
        if not isinstance(raw_dest, list) or not raw_dest:
            raise RuleFileError(f"{where}: 'destinations' must list at least one destination")
        destinations = tuple(
            _destination(d, f"{where}.destinations[{j}]", j) for j, d in enumerate(raw_dest)
        )
        names = [d.name for d in destinations]
        if len(set(names)) != len(names):
            raise RuleFileError(f"{where}: two destinations share a name: {names}")
        secret_envs = tuple(
            env
            for d in destinations
            for env in (
                (d.url_env, d.secret_env)
                if isinstance(d, WebhookDestination)
                else (d.password_env,)
            )
            if env
        )
        rules.append(
            Rule(
                name=name,
                filters=filters,
                destinations=destinations,
                only_open=bool(flt.get("only_open", True)),
                secret_envs=secret_envs,
            )
        )
    return rules


def load_rules(path: Path) -> list[Rule]:
    """The rules in `path`; no file means no rules (alerts are opt-in)."""
    if not path.exists():
        return []
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{path}: not valid YAML: {exc}") from exc
    return parse_rules(document, str(path))


def rules_fingerprint(path: Path) -> str:
    """Changes when the file does: a new rule is baselined on the next tick."""
    if not path.exists():
        return "none"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]

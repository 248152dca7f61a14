"""The network edge of alerts: a JSON POST to a webhook, or an e-mail over SMTP. Secrets are
read here, from the environment variables the rule names, and redacted from every error."""

from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage

from npl_assets.alerts.messages import Message, bot_error, webhook_request
from npl_assets.alerts.rules import Destination, EmailDestination, WebhookDestination

TIMEOUT_SECONDS = 5.0


class DeliveryError(Exception):
    """One failed attempt; the message is safe to store and log (secrets redacted)."""


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _secret(environ: Mapping[str, str], name: str | None, required: bool) -> str | None:
    if not name:
        return None
    value = environ.get(name)
    if required and not value:
        raise DeliveryError(f"environment variable {name} is not set")
    return value or None


def post_webhook(
    dest: WebhookDestination, rule_name: str, message: Message, environ: Mapping[str, str]
) -> str:
    url = _secret(environ, dest.url_env, required=True) or ""
    secret = _secret(environ, dest.secret_env, required=dest.secret_env is not None)
    secrets = [url, secret or ""]
    target, body = webhook_request(dest.kind, rule_name, message, url, secret, time.time())
    request = urllib.request.Request(
        target,
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from None
    except Exception as exc:  # any network failure is one failed attempt, never a crash
        raise DeliveryError(_redact(f"{type(exc).__name__}: {exc}", secrets)) from None
    try:
        answer = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        answer = None
    problem = bot_error(dest.kind, answer)
    if problem:
        raise DeliveryError(_redact(f"HTTP {status}, {problem}", secrets))
    return f"HTTP {status}"


def send_email(dest: EmailDestination, message: Message, environ: Mapping[str, str]) -> str:
    password = _secret(environ, dest.password_env, required=dest.password_env is not None)
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = dest.sender
    mail["To"] = ", ".join(dest.to)
    mail.set_content(message.text)
    smtp_class = smtplib.SMTP_SSL if dest.ssl else smtplib.SMTP
    try:
        with smtp_class(dest.host, dest.port, timeout=TIMEOUT_SECONDS) as smtp:
            if dest.starttls and not dest.ssl:
                smtp.starttls()
            if dest.username and password:
                smtp.login(dest.username, password)
            refused = smtp.send_message(mail)
    except Exception as exc:
        raise DeliveryError(_redact(f"{type(exc).__name__}: {exc}", [password or ""])) from None
    if refused:
        raise DeliveryError(f"refused recipients: {', '.join(sorted(refused))}")
    return f"SMTP accepted for {len(dest.to)} recipient(s)"


def deliver(dest: Destination, rule_name: str, message: Message, environ: Mapping[str, str]) -> str:
    """One attempt; returns a short outcome, raises DeliveryError on failure."""
    if isinstance(dest, WebhookDestination):
        return post_webhook(dest, rule_name, message, environ)
    return send_email(dest, message, environ)

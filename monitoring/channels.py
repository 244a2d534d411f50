"""Where alerts go: email, and chat robots (DingTalk, WeCom, Feishu, Slack) or any JSON endpoint.

One function per robot builds the body that robot expects; `post` sends it and says
whether the robot accepted it (the Chinese robots answer 200 with an error code inside).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

log = logging.getLogger(__name__)

KINDS = ("dingtalk", "wecom", "feishu", "slack", "json")
TIMEOUT_SECONDS = 10


class BadWebhooks(ValueError):
    """LANEBRIDGE_ALERT_WEBHOOKS names an unknown kind or a URL that is not http(s)."""


@dataclass
class Message:
    """One alert as every channel shows it: a title, lines of text, a link, and the data behind it."""

    title: str
    lines: list[str]
    url: str
    data: dict = field(default_factory=dict)

    def text(self) -> str:
        return "\n".join([self.title, *self.lines, self.url])

    def markdown(self) -> str:
        return "\n\n".join([f"### {self.title}", *self.lines, f"[{self.url}]({self.url})"])


@dataclass(frozen=True)
class Webhook:
    kind: str
    url: str
    secret: str = ""

    @property
    def name(self) -> str:
        """The channel without its secrets: kind and host."""
        return f"{self.kind}:{urlsplit(self.url).netloc}"


def parse_webhooks(text: str) -> list[Webhook]:
    """The webhooks of `kind:url,kind:url`; a DingTalk secret comes from the URL's `#secret=` fragment."""
    hooks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        kind, _sep, url = item.partition(":")
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise BadWebhooks(f"LANEBRIDGE_ALERT_WEBHOOKS: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadWebhooks(f"LANEBRIDGE_ALERT_WEBHOOKS: {kind} needs an http(s) URL")
        secret = parts.fragment.removeprefix("secret=") if parts.fragment.startswith("secret=") else ""
        hooks.append(Webhook(kind, urlunsplit(parts._replace(fragment="")), secret))
    return hooks


def dingtalk_body(message: Message) -> dict:
    return {"msgtype": "markdown", "markdown": {"title": message.title, "text": message.markdown()}}


def dingtalk_signed_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """The robot URL with DingTalk's timestamp and signature (HMAC-SHA256 of "timestamp\\nsecret")."""
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def wecom_body(message: Message) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": message.markdown()}}


def feishu_body(message: Message) -> dict:
    return {"msg_type": "text", "content": {"text": message.text()}}


def slack_body(message: Message) -> dict:
    lines = "\n".join(message.lines)
    return {"text": f"*{message.title}*\n{lines}\n<{message.url}|{message.url}>"}


def json_body(message: Message) -> dict:
    return {"title": message.title, "text": message.text(), "url": message.url, **message.data}


BODIES = {"dingtalk": dingtalk_body, "wecom": wecom_body, "feishu": feishu_body, "slack": slack_body,
          "json": json_body}


def post(hook: Webhook, message: Message) -> str:
    """Send the message to one webhook; returns "sent" or what went wrong (never the URL's secrets)."""
    url = dingtalk_signed_url(hook.url, hook.secret) if hook.kind == "dingtalk" and hook.secret else hook.url
    try:
        response = requests.post(url, json=BODIES[hook.kind](message), timeout=TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        return f"failed: {type(exc).__name__}"
    if response.status_code >= 300:
        return f"failed: HTTP {response.status_code}"
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    # DingTalk and WeCom answer {"errcode": 0}, Feishu {"code": 0}; anything else is a refusal.
    code = answer.get("errcode", answer.get("code", 0)) if isinstance(answer, dict) else 0
    if code not in (0, "0", None):
        return f"failed: {hook.kind} answered code {code}"
    return "sent"


def email(message: Message, roles: list[str]) -> str:
    """Email the members of `roles` and of the alert role; returns "sent", "no recipients" or the error."""
    groups = [*roles, settings.LANEBRIDGE_ALERTS["EMAIL_ROLE"]]
    addresses = sorted(set(get_user_model().objects.filter(is_active=True, groups__name__in=groups).exclude(
        email="").values_list("email", flat=True)))
    if not addresses:
        return "no recipients"
    try:
        send_mail(message.title, message.text(), settings.DEFAULT_FROM_EMAIL, addresses)
    except Exception as exc:  # noqa: BLE001 - a mail server down must not stop the chat alerts
        log.warning("alert email failed: %s", exc)
        return f"failed: {type(exc).__name__}"
    return "sent"

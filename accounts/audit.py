"""The audit log: who was refused what, what admins changed, tokens made and revoked, lockouts."""

from __future__ import annotations

import ipaddress

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse

from accounts.models import AuditEvent

ADMIN_ACTIONS = {ADDITION: AuditEvent.ADMIN_ADDITION, CHANGE: AuditEvent.ADMIN_CHANGE,
                 DELETION: AuditEvent.ADMIN_DELETION}


def record(action: str, user=None, object: str = "", detail: str = "", address: str | None = None,
           username: str = "") -> AuditEvent:
    """Append one event to the audit log."""
    if user is not None and not user.is_authenticated:
        user = None
    return AuditEvent.objects.create(
        action=action, user=user, username=(user.get_username() if user else username)[:150],
        object=str(object)[:300], detail=str(detail)[:5000], address=_ip(address))


def address_of(request: HttpRequest | None) -> str | None:
    """The client's address as the server saw it."""
    return request.META.get("REMOTE_ADDR") if request is not None else None


def record_refusal(request: HttpRequest, response: HttpResponse) -> AuditEvent:
    """Log a 403 answer: who, which method and path, and what the answer said."""
    user = getattr(request, "user", None)
    detail = ""
    data = getattr(response, "data", None)  # a DRF answer: {"error": "...", ...}
    if isinstance(data, dict):
        detail = str(data.get("error", data))
    token = getattr(request, "auth", None)
    prefix = getattr(token, "prefix", None)
    if prefix:
        detail = f"{detail} (token {prefix}…)".strip()
    return record(AuditEvent.REFUSED, user, f"{request.method} {request.path}", detail, address_of(request))


def record_admin_entry(entry: LogEntry) -> AuditEvent:
    """Copy one Django admin log entry into the audit log."""
    content_type = entry.content_type
    kind = f"{content_type.app_label}.{content_type.model}" if content_type else "?"
    return record(ADMIN_ACTIONS.get(entry.action_flag, AuditEvent.ADMIN_CHANGE), entry.user,
                  f"{kind} {entry.object_id}: {entry.object_repr}", entry.get_change_message())


def record_lockout(username: str, address: str | None) -> AuditEvent:
    """Log that logins as `username` are locked after too many wrong passwords."""
    user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
    return record(AuditEvent.LOCKOUT, user, f"login {username}", "too many failed logins", address,
                  username=username or "")


def _ip(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


class AuditRefusals:
    """Middleware: every 403 answer, from a page or the API, becomes an audit event."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            record_refusal(request, response)
        return response

"""API tokens: create, find by secret, revoke, and what their scopes allow."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import audit
from accounts.models import ApiToken, AuditEvent

# scope → what it allows, shown on the token page. Views declare which one they need
# (accounts.permissions.TokenScopes); a token without scopes may do all its user may.
SCOPES: dict[str, str] = {
    "read": _("Read: every GET of the API (definitions, instances, history, tasks, incidents, search)"),
    "instances:start": _("Start instances of any process"),
    "instances:cancel": _("Cancel instances"),
    "tasks:claim": _("Claim tasks"),
    "tasks:complete": _("Complete tasks"),
    "incidents:retry": _("Retry incidents"),
    "incidents:resolve": _("Close incidents by skipping the failed step or cancelling the instance"),
    "instances:operate": _("Suspend, resume and migrate instances, edit their variables"),
    "definitions:deploy": _("Deploy BPMN files"),
    "messages:send": _("Send messages to waiting instances"),
    "signals:send": _("Send signals"),
}
# These scopes may also be narrowed to one object: "instances:start:quote_to_cash".
NARROWABLE = {"instances:start"}
PREFIX = "lb_"
# A token is touched at most this often, so using it is not a database write on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class InvalidScope(ValueError):
    """A scope name that no view knows."""


def digest(secret: str) -> str:
    """The SHA-256 kept instead of the secret.

    A fast hash is enough: secrets are long and random (no dictionary to try), and it
    lets a request find its token by an indexed lookup.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes, without duplicates, in order; InvalidScope names the first unknown one."""
    clean: list[str] = []
    for scope in scopes:
        scope = scope.strip()
        base, _sep, narrowed = scope.rpartition(":")
        if scope in SCOPES or (base in NARROWABLE and narrowed):
            if scope not in clean:
                clean.append(scope)
        else:
            raise InvalidScope(f"Unknown scope {scope!r}; known: {', '.join(SCOPES)} "
                               f"(or instances:start:<process id>)")
    return clean


@transaction.atomic
def create_token(user, name: str = "", scopes: Iterable[str] = (), expires_days: int | None = None,
                 by=None, address: str | None = None) -> tuple[ApiToken, str]:
    """Make a token for `user`; returns it and its secret, which is never stored and cannot be shown again."""
    scopes = check_scopes(list(scopes))
    if expires_days is not None and expires_days < 1:
        raise ValueError("expires_days must be at least 1")
    secret = PREFIX + secrets.token_urlsafe(30)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=secret[:10], digest=digest(secret), scopes=scopes, created_at=now,
        expires_at=now + datetime.timedelta(days=expires_days) if expires_days else None)
    audit.record(AuditEvent.TOKEN_CREATED, by or user, f"token {token.prefix}… of {user.get_username()}",
                 detail=_describe(token), address=address)
    return token, secret


@transaction.atomic
def revoke_token(token: ApiToken, by=None, address: str | None = None) -> bool:
    """Revoke the token from now on; False if it already was."""
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if changed:
        token.refresh_from_db(fields=["revoked_at"])
        audit.record(AuditEvent.TOKEN_REVOKED, by or token.user,
                     f"token {token.prefix}… of {token.user.get_username()}", detail=_describe(token),
                     address=address)
    return bool(changed)


def find_token(secret: str) -> ApiToken | None:
    """The token with this secret (revoked or expired ones too), or None."""
    return ApiToken.objects.select_related("user").filter(digest=digest(secret)).first()


def touch(token: ApiToken, now=None) -> None:
    """Note that the token was used, writing at most once per LAST_USED_RESOLUTION."""
    now = now or timezone.now()
    if token.last_used_at and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def allows(token: ApiToken, scope: str, narrowed_to: str | None = None) -> bool:
    """True if the token may act under `scope` (optionally on the one object `narrowed_to`)."""
    if not token.scopes:
        return True
    return scope in token.scopes or (narrowed_to is not None and f"{scope}:{narrowed_to}" in token.scopes)


def _describe(token: ApiToken) -> str:
    scopes = ", ".join(token.scopes) or "all rights of the user"
    expires = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "never expires"
    return f"name {token.name!r}; scopes: {scopes}; {expires}"

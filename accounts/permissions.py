"""Scoped API tokens: each API view declares the scope a token needs to call it.

Declare on the view:
    required_scope = "instances:start"              # for POST, PUT, PATCH, DELETE
    scope_narrowed_by = "process_id"                # optional: also accept "instances:start:<process_id>"
Reads (GET, HEAD, OPTIONS) need the scope "read" unless `required_scopes = {"GET": ...}` says otherwise.
A token without scopes, and a logged-in browser session, pass everywhere. A write on a view that
declares no scope refuses every scoped token (fail closed).
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts import tokens
from accounts.models import ApiToken


def required_scope(view, method: str) -> str | None:
    """The scope `view` declares for `method`, or None if it declares none."""
    per_method = getattr(view, "required_scopes", None) or {}
    if method in per_method:
        return per_method[method]
    if method in SAFE_METHODS:
        return "read"
    return getattr(view, "required_scope", None)


class TokenScopes(BasePermission):
    """Refuse a scoped token whose scopes do not include what the view declares (403 naming the scope)."""

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken) or not token.scopes:
            return True
        scope = required_scope(view, request.method)
        narrowed_by = getattr(view, "scope_narrowed_by", None)
        narrowed_to = str(view.kwargs.get(narrowed_by)) if narrowed_by and narrowed_by in view.kwargs else None
        if scope is not None and tokens.allows(token, scope, narrowed_to):
            return True
        if scope is None:
            self.message = {"error": f"This token's scopes do not cover {request.method} {request.path}; "
                                     f"use a token without scopes", "scope": None}
            return False
        needed = f"{scope}:{narrowed_to}" if narrowed_to else scope
        alternative = f" (or {needed})" if narrowed_to else ""
        self.message = {"error": f"This token lacks the scope {scope}{alternative}", "scope": scope}
        return False

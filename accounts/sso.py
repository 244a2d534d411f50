"""Single sign-on through an OpenID Connect provider (mozilla-django-oidc), on only when configured."""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.urls import path
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.groups import sync_roles

log = logging.getLogger(__name__)


def oidc_enabled() -> bool:
    """Whether an OpenID Connect provider is configured."""
    return bool(settings.OIDC_RP_CLIENT_ID and settings.OIDC_OP_AUTHORIZATION_ENDPOINT)


class OIDCBackend(OIDCAuthenticationBackend):
    """Log in whoever the provider vouches for; the username and roles come from the provider's claims."""

    def authenticate(self, request, **kwargs):
        if not oidc_enabled():
            return None
        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException as exc:
            # An unreachable or failing provider is a failed login, not a server error.
            log.warning("OIDC login failed: the provider did not answer: %s", type(exc).__name__)
            return None

    def verify_claims(self, claims: dict) -> bool:
        return bool(claims.get(settings.OIDC_USERNAME_CLAIM))

    def filter_users_by_claims(self, claims: dict):
        users = self.UserModel.objects.filter(username=claims[settings.OIDC_USERNAME_CLAIM])
        # A provider that lets people pick their name must not hand them a local (password) account.
        if any(user.has_usable_password() for user in users):
            raise SuspiciousOperation("the provider's username belongs to a local account")
        return users

    def create_user(self, claims: dict):
        user = self.UserModel.objects.create_user(claims[settings.OIDC_USERNAME_CLAIM])
        return self.update_user(user, claims)

    def update_user(self, user, claims: dict):
        user.email = claims.get("email") or user.email
        user.first_name = (claims.get("given_name") or user.first_name)[:150]
        user.last_name = (claims.get("family_name") or user.last_name)[:150]
        user.save(update_fields=["email", "first_name", "last_name"])
        groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
        sync_roles(user, [groups] if isinstance(groups, str) else groups)
        return user


class OnlyWhenConfigured:
    """A 404 instead of the OIDC pages while no provider is configured."""

    def dispatch(self, request, *args, **kwargs):
        if not oidc_enabled():
            raise Http404("single sign-on is not configured")
        return super().dispatch(request, *args, **kwargs)


class AuthenticateView(OnlyWhenConfigured, OIDCAuthenticationRequestView):
    """Send the browser to the provider's login."""


class CallbackView(OnlyWhenConfigured, OIDCAuthenticationCallbackView):
    """Take the provider's answer and log the user in."""


urlpatterns = [
    path("authenticate/", AuthenticateView.as_view(), name="oidc_authentication_init"),
    path("callback/", CallbackView.as_view(), name="oidc_authentication_callback"),
]

"""Single sign-on through an OpenID Connect provider (mozilla-django-oidc), on only when configured."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.views import LogoutView as DjangoLogoutView
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.middleware import SessionRefresh as OIDCSessionRefresh
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


def signed_in_with_sso(request) -> bool:
    """Whether this session's user logged in through the OIDC provider."""
    return request.session.get(BACKEND_SESSION_KEY) == f"{OIDCBackend.__module__}.{OIDCBackend.__qualname__}"


def provider_logout_url(request) -> str:
    """The provider's end-session address that also ends the provider's login, or "" when there is none."""
    if not (oidc_enabled() and settings.OIDC_OP_LOGOUT_ENDPOINT and signed_in_with_sso(request)):
        return ""
    params = {
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse(settings.LOGOUT_REDIRECT_URL)),
    }
    if request.session.get("oidc_id_token"):
        params["id_token_hint"] = request.session["oidc_id_token"]
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{urlencode(params)}"


class LogoutView(DjangoLogoutView):
    """Log out here, and at the provider too when the user came through single sign-on."""

    def post(self, request, *args, **kwargs):
        # Read before logging out: logging out empties the session that holds the ID token.
        at_provider = provider_logout_url(request)
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(at_provider) if at_provider else response


class SessionRefresh(OIDCSessionRefresh):
    """Send an SSO user back to the provider, silently, once their ID token has expired.

    The provider then either vouches for them again (its own login still stands) or answers
    "login required", and the callback logs them out here: a person disabled at the provider
    loses Lanebridge within OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS, not at their session's end.
    """

    def process_request(self, request):
        if not oidc_enabled():
            return None
        # Read per request rather than once at start-up, like every other OIDC setting here.
        self.OIDC_OP_AUTHORIZATION_ENDPOINT = settings.OIDC_OP_AUTHORIZATION_ENDPOINT
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_SCOPES = settings.OIDC_RP_SCOPES
        return super().process_request(request)


urlpatterns = [
    path("authenticate/", AuthenticateView.as_view(), name="oidc_authentication_init"),
    path("callback/", CallbackView.as_view(), name="oidc_authentication_callback"),
    path("logout/", LogoutView.as_view(), name="oidc_logout"),
]

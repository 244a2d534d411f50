"""DRF authentication by API token, in the header `Authorization: Token <secret>`."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts import tokens


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token header, checked against hashed, expiring, revocable tokens (request.auth is the ApiToken)."""

    def authenticate_credentials(self, key):
        token = tokens.find_token(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Token revoked.")
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("Token expired.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        tokens.touch(token, now)
        return token.user, token

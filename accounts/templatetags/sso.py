"""Template tags for the login page's single sign-on button."""

from django import template

from accounts.sso import oidc_enabled

register = template.Library()


@register.simple_tag
def sso_enabled() -> bool:
    """Whether the login page offers "Sign in with SSO"."""
    return oidc_enabled()

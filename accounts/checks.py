"""Start-up checks that refuse a sign-on configuration which would fail at the first login."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def sso_settings(app_configs, **kwargs) -> list[Error]:
    """The group → role mapping parses; OIDC, when on, has its endpoints; LDAP knows how to find people."""
    from accounts.groups import parse_group_roles
    from accounts.ldap import auth_ldap_settings

    errors = []
    try:
        parse_group_roles(settings.LANEBRIDGE_SSO_GROUP_ROLES)
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="accounts.E001"))
    if settings.OIDC_RP_CLIENT_ID:
        needed = ["OIDC_RP_CLIENT_SECRET", "OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_TOKEN_ENDPOINT",
                  "OIDC_OP_USER_ENDPOINT"]
        if settings.OIDC_RP_SIGN_ALGO.startswith(("RS", "ES")):
            needed.append("OIDC_OP_JWKS_ENDPOINT")
        missing = [name for name in needed if not getattr(settings, name)]
        if missing:
            errors.append(Error(f"OIDC_RP_CLIENT_ID is set: set {', '.join(missing)} too", id="accounts.E003"))
    if settings.LANEBRIDGE_LDAP["SERVER_URI"]:
        try:
            auth_ldap_settings(settings.LANEBRIDGE_LDAP)
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), id="accounts.E002"))
    return errors

"""Start-up checks that refuse a sign-on configuration which would fail at the first login."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def sso_settings(app_configs, **kwargs) -> list[Error]:
    """The group → role mapping parses, and LDAP, when on, knows how to find people and groups."""
    from accounts.groups import parse_group_roles
    from accounts.ldap import auth_ldap_settings

    errors = []
    try:
        parse_group_roles(settings.LANEBRIDGE_SSO_GROUP_ROLES)
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), id="accounts.E001"))
    if settings.LANEBRIDGE_LDAP["SERVER_URI"]:
        try:
            auth_ldap_settings(settings.LANEBRIDGE_LDAP)
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), id="accounts.E002"))
    return errors

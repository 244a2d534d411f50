"""Sign-on against LDAP or Active Directory through django-auth-ldap, configured from LANEBRIDGE_LDAP."""

from __future__ import annotations

import ldap
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django_auth_ldap.backend import LDAPBackend as AuthLDAPBackend
from django_auth_ldap.config import (
    ActiveDirectoryGroupType,
    GroupOfNamesType,
    GroupOfUniqueNamesType,
    LDAPSearch,
    NestedActiveDirectoryGroupType,
    NestedGroupOfNamesType,
    PosixGroupType,
)

from accounts.groups import sync_roles

# LDAP_GROUP_TYPE → (django-auth-ldap group type, the filter that finds such groups).
GROUP_TYPES = {
    "groupOfNames": (GroupOfNamesType, "(objectClass=groupOfNames)"),
    "nestedGroupOfNames": (NestedGroupOfNamesType, "(objectClass=groupOfNames)"),
    "groupOfUniqueNames": (GroupOfUniqueNamesType, "(objectClass=groupOfUniqueNames)"),
    "posixGroup": (PosixGroupType, "(objectClass=posixGroup)"),
    "activeDirectory": (ActiveDirectoryGroupType, "(objectClass=group)"),
    "nestedActiveDirectory": (NestedActiveDirectoryGroupType, "(objectClass=group)"),
}


def auth_ldap_settings(conf: dict) -> dict:
    """django-auth-ldap's settings (without their AUTH_LDAP_ prefix) from Lanebridge's plain LDAP settings."""
    result = {
        "SERVER_URI": conf["SERVER_URI"],
        "BIND_DN": conf.get("BIND_DN", ""),
        "BIND_PASSWORD": conf.get("BIND_PASSWORD", ""),
        # Without a service account, read the directory as the person logging in.
        "BIND_AS_AUTHENTICATING_USER": not conf.get("BIND_DN"),
        "START_TLS": bool(conf.get("START_TLS")),
        # Active Directory answers searches with referrals that python-ldap would follow anonymously.
        "CONNECTION_OPTIONS": {ldap.OPT_REFERRALS: 0},
        "USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "ALWAYS_UPDATE_USER": True,
    }
    if conf.get("USER_DN_TEMPLATE"):
        result["USER_DN_TEMPLATE"] = conf["USER_DN_TEMPLATE"]
    elif conf.get("USER_SEARCH_BASE"):
        result["USER_SEARCH"] = LDAPSearch(
            conf["USER_SEARCH_BASE"], ldap.SCOPE_SUBTREE, conf.get("USER_SEARCH_FILTER") or "(uid=%(user)s)"
        )
    else:
        raise ImproperlyConfigured("LDAP_SERVER_URI is set: set LDAP_USER_SEARCH_BASE or LDAP_USER_DN_TEMPLATE too")
    if conf.get("GROUP_SEARCH_BASE"):
        kind = conf.get("GROUP_TYPE") or "groupOfNames"
        if kind not in GROUP_TYPES:
            raise ImproperlyConfigured(f'LDAP_GROUP_TYPE "{kind}" is not one of {", ".join(GROUP_TYPES)}')
        group_type, group_filter = GROUP_TYPES[kind]
        result["GROUP_SEARCH"] = LDAPSearch(
            conf["GROUP_SEARCH_BASE"], ldap.SCOPE_SUBTREE, conf.get("GROUP_SEARCH_FILTER") or group_filter
        )
        result["GROUP_TYPE"] = group_type()
    return result


class LDAPBackend(AuthLDAPBackend):
    """Log in with an LDAP or Active Directory password; roles follow the user's directory groups."""

    @property
    def default_settings(self) -> dict:
        return auth_ldap_settings(settings.LANEBRIDGE_LDAP)

    def get_or_build_user(self, username, ldap_user):
        user, built = super().get_or_build_user(username, ldap_user)
        # A local account keeps its own password: the directory must not take it over.
        if not built and user.has_usable_password():
            raise PermissionDenied("a local account of that name exists")
        return user, built

    def authenticate_ldap_user(self, ldap_user, password):
        user = super().authenticate_ldap_user(ldap_user, password)
        if user is not None and self.settings.GROUP_SEARCH is not None:
            # A mapping may name a group by its DN or by its name (cn).
            sync_roles(user, ldap_user.group_dns | ldap_user.group_names)
        return user

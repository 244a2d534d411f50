"""Lanebridge roles from a sign-on provider's groups, kept in step at every login."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from processes.roles import ROLES, ensure_roles


def parse_group_roles(text: str) -> dict[str, set[str]]:
    """Read "provider-group:Role;other-group:Role" into {provider group (case-folded): {roles}}."""
    mapping: dict[str, set[str]] = {}
    for entry in text.replace("\n", ";").split(";"):
        entry = entry.strip()
        if not entry:
            continue
        # The role is after the last colon: group names and DNs may contain colons, role names don't.
        group, sep, role = entry.rpartition(":")
        group, role = group.strip(), role.strip()
        if not sep or not group or not role:
            raise ImproperlyConfigured(
                f'LANEBRIDGE_SSO_GROUP_ROLES: "{entry}" is not "provider-group:Role"'
            )
        # LDAP compares DNs without regard to case, and so do we, for DNs and OIDC group names alike.
        mapping.setdefault(group.casefold(), set()).add(role)
    return mapping


def group_roles() -> dict[str, set[str]]:
    """The configured provider group → roles mapping."""
    return parse_group_roles(settings.LANEBRIDGE_SSO_GROUP_ROLES)


def sync_roles(user, provider_groups: Iterable[str], mapping: dict[str, set[str]] | None = None) -> None:
    """Give the user exactly the mapped roles of their provider groups; roles the mapping never names stay."""
    if mapping is None:
        mapping = group_roles()
    managed = set().union(*mapping.values())
    if not managed:
        return
    wanted = set()
    for name in provider_groups:
        wanted |= mapping.get(name.casefold(), set())
    with transaction.atomic():
        missing = wanted - set(Group.objects.filter(name__in=wanted).values_list("name", flat=True))
        if missing & ROLES.keys():
            ensure_roles()  # a product role comes with its permissions
        for name in missing:
            Group.objects.get_or_create(name=name)
        user.groups.remove(*Group.objects.filter(name__in=managed - wanted))
        user.groups.add(*Group.objects.filter(name__in=wanted))

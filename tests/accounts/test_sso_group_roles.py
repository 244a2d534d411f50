"""The provider group → role mapping shared by LDAP and OIDC sign-on."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured

from accounts.groups import parse_group_roles, sync_roles

MAPPING = "cn=sales,ou=groups,dc=example,dc=org:Sales; lanebridge-ops:Operator; lanebridge-ops:Auditor; Finance:Finance"


def names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def test_a_mapping_reads_dns_names_and_one_group_giving_several_roles():
    assert parse_group_roles(MAPPING) == {
        "cn=sales,ou=groups,dc=example,dc=org": {"Sales"},
        "lanebridge-ops": {"Operator", "Auditor"},
        "finance": {"Finance"},
    }


def test_an_empty_mapping_maps_nothing():
    assert parse_group_roles(" ; \n") == {}


@pytest.mark.parametrize("entry", ["sales", "sales:", ":Sales"])
def test_an_entry_without_group_and_role_is_refused_naming_it(entry):
    with pytest.raises(ImproperlyConfigured, match=f'"{entry}"'):
        parse_group_roles(f"finance:Finance;{entry}")


def test_sync_adds_the_mapped_roles_of_the_users_groups(make_user):
    user = make_user("amy")

    sync_roles(user, ["CN=Sales,OU=Groups,DC=example,DC=org", "lanebridge-ops", "unmapped"], parse_group_roles(MAPPING))

    assert names(user) == {"Sales", "Operator", "Auditor"}
    assert user.has_perm("engine.change_incident")


def test_sync_removes_mapped_roles_and_leaves_the_others(make_user):
    user = make_user("bo", "Sales", "Finance", "Warehouse", "Analyst")

    sync_roles(user, ["finance"], parse_group_roles(MAPPING))

    assert names(user) == {"Finance", "Warehouse", "Analyst"}


def test_sync_creates_a_mapped_role_nobody_has_yet(make_user):
    user = make_user("cy")

    sync_roles(user, ["qa"], parse_group_roles("qa:Quality"))

    assert names(user) == {"Quality"}
    assert Group.objects.filter(name="Quality").count() == 1


def test_without_a_mapping_sync_changes_nothing(make_user, settings):
    settings.LANEBRIDGE_SSO_GROUP_ROLES = ""
    user = make_user("di", "Sales")

    sync_roles(user, ["sales"])

    assert names(user) == {"Sales"}

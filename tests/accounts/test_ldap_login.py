"""Logging in through the login form with a directory password, against a real slapd."""

import pytest
from django.contrib.auth.models import Group, User

from tests.accounts.conftest import BASE_DN, Directory

LOGIN = "/accounts/login/"


@pytest.fixture
def ldap_on(db, settings, directory):
    """Lanebridge configured as an operator would for this directory (bind as admin, search users)."""
    settings.LANEBRIDGE_LDAP = {
        "SERVER_URI": directory.uri,
        "BIND_DN": f"cn=admin,{BASE_DN}",
        "BIND_PASSWORD": "directory-admin",
        "USER_SEARCH_BASE": f"ou=people,{BASE_DN}",
        "USER_SEARCH_FILTER": "(uid=%(user)s)",
        "GROUP_SEARCH_BASE": f"ou=groups,{BASE_DN}",
        "GROUP_TYPE": "groupOfNames",
    }
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "accounts.ldap.LDAPBackend"]
    # One group by its DN (written in another case than the directory's), one by its name.
    settings.LANEBRIDGE_SSO_GROUP_ROLES = (
        f"CN=Sales,OU=Groups,{BASE_DN.upper()}:Sales; finance:Finance; managers:Manager; operators:Operator"
    )
    return directory


def roles_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_a_directory_user_logs_in_with_the_form_and_gets_the_roles_of_their_groups(client, ldap_on: Directory):
    ldap_on.add_person("mei", "mei-pass", groups=["sales", "managers"])

    response = client.post(LOGIN, {"username": "mei", "password": "mei-pass"})

    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").context["user"].username == "mei"
    assert roles_of("mei") == {"Sales", "Manager"}
    mei = User.objects.get(username="mei")
    assert (mei.first_name, mei.email) == ("Mei", "mei@example.org")
    assert not mei.has_usable_password()


def test_roles_follow_the_directory_groups_at_every_login(client, ldap_on: Directory, roles):
    ldap_on.add_person("jun", "jun-pass", groups=["sales", "operators"])
    client.post(LOGIN, {"username": "jun", "password": "jun-pass"})
    jun = User.objects.get(username="jun")
    assert jun.has_perm("engine.change_incident")  # Operator comes with its permissions
    # A role the mapping never names is the admin's to give and stays.
    jun.groups.add(Group.objects.get(name="Auditor"))
    client.logout()

    ldap_on.set_groups("jun", ["finance"])
    response = client.post(LOGIN, {"username": "jun", "password": "jun-pass"})

    assert response.status_code == 302
    assert roles_of("jun") == {"Finance", "Auditor"}


def test_a_wrong_directory_password_is_refused_and_creates_no_user(client, ldap_on: Directory):
    ldap_on.add_person("wei", "right-pass", groups=["sales"])

    response = client.post(LOGIN, {"username": "wei", "password": "wrong-pass"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not User.objects.filter(username="wei").exists()


def test_a_local_account_still_logs_in_while_the_directory_is_on(client, ldap_on: Directory, make_user):
    make_user("local-admin", "Operator")

    response = client.post(LOGIN, {"username": "local-admin", "password": "demo"})

    assert response.status_code == 302
    assert roles_of("local-admin") == {"Operator"}


def test_a_directory_password_never_opens_a_local_account_of_the_same_name(client, ldap_on: Directory, make_user):
    make_user("mei", "Auditor")
    ldap_on.add_person("mei", "mei-pass", groups=["sales"])

    response = client.post(LOGIN, {"username": "mei", "password": "mei-pass"})

    assert response.status_code == 200
    assert roles_of("mei") == {"Auditor"}
    assert client.post(LOGIN, {"username": "mei", "password": "demo"}).status_code == 302


def test_people_found_through_a_dn_template_log_in_without_a_service_account(client, ldap_on: Directory, settings):
    settings.LANEBRIDGE_LDAP = {
        "SERVER_URI": ldap_on.uri,
        "USER_DN_TEMPLATE": f"uid=%(user)s,ou=people,{BASE_DN}",
        "GROUP_SEARCH_BASE": f"ou=groups,{BASE_DN}",
    }
    ldap_on.add_person("lan", "lan-pass", groups=["managers"])

    response = client.post(LOGIN, {"username": "lan", "password": "lan-pass"})

    assert response.status_code == 302
    assert roles_of("lan") == {"Manager"}


def test_an_unreachable_directory_refuses_the_login_with_the_form(client, ldap_on: Directory, settings):
    from tests.accounts.conftest import free_port

    settings.LANEBRIDGE_LDAP = {**settings.LANEBRIDGE_LDAP, "SERVER_URI": f"ldap://127.0.0.1:{free_port()}"}

    response = client.post(LOGIN, {"username": "mei", "password": "mei-pass"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()

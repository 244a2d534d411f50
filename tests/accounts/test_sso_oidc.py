"""Single sign-on through a real OpenID Connect provider process, the whole authorization-code flow."""

import re

import requests
from django.contrib.auth.models import Group, User

LOGIN = "/accounts/login/"


def sign_in_with_sso(base_url: str, username: str, password: str) -> requests.Response:
    """Click "Sign in with SSO", log in at the provider, and follow every redirect back; the last response."""
    browser = requests.Session()
    login_page = browser.get(f"{base_url}{LOGIN}?next=/processes/", timeout=30)
    button = re.search(r'<form method="get" action="([^"]+)"', login_page.text)
    assert button, "the login page offers no SSO button"
    provider_login = browser.get(f"{base_url}{button.group(1)}", params={"next": "/processes/"}, timeout=30)
    assert "Log in at the provider" in provider_login.text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', provider_login.text).group(1)
    nxt = re.search(r'name="next" value="([^"]+)"', provider_login.text).group(1).replace("&amp;", "&")
    answer = browser.post(
        provider_login.url,
        data={"csrfmiddlewaretoken": csrf, "username": username, "password": password, "next": nxt},
        timeout=30,
    )
    answer.browser = browser
    return answer


def roles_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_a_provider_user_signs_in_and_gets_the_roles_of_their_groups(transactional_db, live_server, oidc_on):
    oidc_on.set_user("hana", "hana-pass", groups=["lanebridge-sales", "lanebridge-ops", "not-mapped"])

    answer = sign_in_with_sso(live_server.url, "hana", "hana-pass")

    assert answer.status_code == 200
    assert answer.url == f"{live_server.url}/processes/"
    assert "hana" in answer.browser.get(f"{live_server.url}/", timeout=30).text
    assert roles_of("hana") == {"Sales", "Operator"}
    hana = User.objects.get(username="hana")
    assert (hana.email, hana.first_name) == ("hana@example.org", "Hana")
    assert not hana.has_usable_password()


def test_a_group_removed_at_the_provider_loses_its_role_at_the_next_login(transactional_db, live_server, oidc_on):
    oidc_on.set_user("ravi", "ravi-pass", groups=["lanebridge-sales", "lanebridge-ops"])
    sign_in_with_sso(live_server.url, "ravi", "ravi-pass")
    assert roles_of("ravi") == {"Sales", "Operator"}
    # A role the mapping never names is the admin's to give and stays.
    User.objects.get(username="ravi").groups.add(Group.objects.get_or_create(name="Warehouse")[0])

    oidc_on.set_user("ravi", "ravi-pass", groups=["lanebridge-finance"])
    answer = sign_in_with_sso(live_server.url, "ravi", "ravi-pass")

    assert answer.url == f"{live_server.url}/processes/"
    assert roles_of("ravi") == {"Finance", "Warehouse"}


def test_a_provider_name_that_belongs_to_a_local_account_is_refused(transactional_db, live_server, oidc_on):
    User.objects.create_user("boss", password="local-secret", is_superuser=True)
    oidc_on.set_user("boss", "provider-pass", groups=["lanebridge-ops"])

    answer = sign_in_with_sso(live_server.url, "boss", "provider-pass")

    assert answer.url == f"{live_server.url}{LOGIN}?sso=failed"
    assert "Single sign-on did not log you in" in answer.text
    assert roles_of("boss") == set()


def test_a_wrong_provider_password_never_reaches_lanebridge(transactional_db, live_server, oidc_on):
    oidc_on.set_user("ola", "ola-pass", groups=["lanebridge-sales"])

    answer = sign_in_with_sso(live_server.url, "ola", "wrong")

    assert answer.url.startswith(oidc_on.url)
    assert not User.objects.filter(username="ola").exists()

"""Too many wrong passwords lock the account, not the address they came from."""

import pytest
from django.test import Client

from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
OFFICE = "10.0.0.7"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 5


def log_in(client: Client, username: str, password: str, address: str = OFFICE):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in_as(client: Client) -> str | None:
    response = client.get("/")
    return response.context["user"].username if response.status_code == 200 else None


def test_thirty_wrong_passwords_then_the_right_one_does_not_log_in(make_user):
    make_user("manager", "Manager")
    client = Client()
    for _ in range(30):
        log_in(client, "manager", "guess")
    response = log_in(client, "manager", "demo")
    assert response.status_code == 429
    assert logged_in_as(client) is None


def test_the_account_is_locked_from_every_address(make_user):
    make_user("manager", "Manager")
    for _ in range(5):
        log_in(Client(), "manager", "guess", address="203.0.113.9")
    client = Client()
    assert log_in(client, "manager", "demo", address=OFFICE).status_code == 429
    assert logged_in_as(client) is None


def test_a_locked_account_does_not_lock_out_colleagues_behind_the_same_address(make_user):
    make_user("manager", "Manager")
    make_user("sales", "Sales")
    for _ in range(10):
        log_in(Client(), "manager", "guess")
    client = Client()
    assert log_in(client, "sales", "demo").status_code == 302
    assert logged_in_as(client) == "sales"


def test_fewer_failures_than_the_limit_still_let_the_right_password_in(make_user):
    make_user("manager", "Manager")
    client = Client()
    for _ in range(4):
        assert log_in(client, "manager", "guess").status_code == 200
    assert log_in(client, "manager", "demo").status_code == 302
    assert logged_in_as(client) == "manager"


def test_the_limit_comes_from_settings(make_user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    make_user("manager", "Manager")
    for _ in range(2):
        log_in(Client(), "manager", "guess")
    assert log_in(Client(), "manager", "demo").status_code == 429


def test_the_locked_page_says_why_and_for_how_long_in_english_and_chinese(make_user, settings):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "LOCKOUT_MINUTES": 15}
    make_user("manager", "Manager")
    for _ in range(5):
        log_in(Client(), "manager", "guess")
    english = log_in(Client(), "manager", "demo").content.decode()
    assert "This account is locked after 5 failed logins." in english
    assert "Try again in 15 minutes." in english
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = log_in(chinese, "manager", "demo").content.decode()
    assert "此账户因连续 5 次登录失败已被锁定。" in page
    assert "请在 15 分钟后重试。" in page


def test_a_lockout_is_in_the_audit_log(make_user):
    manager = make_user("manager", "Manager")
    for _ in range(5):
        log_in(Client(), "manager", "guess")
    event = AuditEvent.objects.get(action=AuditEvent.LOCKOUT)
    assert (event.user, event.username, event.object, event.address) == (manager, "manager", "login manager", OFFICE)


def test_locking_by_username_and_address_keeps_the_account_open_from_other_addresses(make_user, settings):
    settings.AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # LANEBRIDGE_LOCKOUT_BY=username+address
    make_user("manager", "Manager")
    for _ in range(5):
        log_in(Client(), "manager", "guess", address="203.0.113.9")
    assert log_in(Client(), "manager", "demo", address="203.0.113.9").status_code == 429
    client = Client()
    assert log_in(client, "manager", "demo", address=OFFICE).status_code == 302
    assert logged_in_as(client) == "manager"

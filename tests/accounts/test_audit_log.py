"""Refusals, admin changes, tokens made and revoked land in the audit log, which auditors may read but not edit."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from accounts import tokens
from accounts.models import AuditEvent
from processes.roles import ensure_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(make_user) -> Client:
    client = Client()
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    return client


def test_a_page_refusal_is_logged_with_who_what_and_where(make_user):
    sales = make_user("sales", "Sales")
    client = Client()
    client.force_login(sales)
    assert client.post("/processes/", {}, REMOTE_ADDR="192.0.2.4").status_code == 403
    event = AuditEvent.objects.get()
    assert (event.action, event.user, event.username, event.object, event.address) == (
        AuditEvent.REFUSED, sales, "sales", "POST /processes/", "192.0.2.4")


def test_an_api_refusal_is_logged_with_its_reason(make_user, api_as):
    sales = make_user("sales", "Sales")
    response = api_as(sales).post("/api/v1/definitions/", {}, format="multipart")
    assert response.status_code == 403
    event = AuditEvent.objects.get()
    assert (event.action, event.user, event.object) == (AuditEvent.REFUSED, sales, "POST /api/v1/definitions/")
    assert event.detail == "You need the permission engine.add_processdefinition"


def test_answers_other_than_403_are_not_logged(make_user, api_as):
    assert api_as(make_user("analyst", "Analyst")).get("/api/v1/instances/").status_code == 200
    assert Client().get("/api/v1/instances/").status_code == 401
    assert not AuditEvent.objects.exists()


def test_an_admin_change_is_logged(admin_client):
    response = admin_client.post("/admin/auth/group/add/", {"name": "Purchasing"})
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    group = Group.objects.get(name="Purchasing")
    assert (event.action, event.username, event.object) == (
        AuditEvent.ADMIN_ADDITION, "boss", f"auth.group {group.pk}: Purchasing")


def test_deleting_several_objects_in_the_admin_logs_each(admin_client):
    groups = [Group.objects.create(name=name) for name in ("A", "B", "C")]
    response = admin_client.post("/admin/auth/group/", {
        "action": "delete_selected", "_selected_action": [g.pk for g in groups], "post": "yes"})
    assert response.status_code == 302
    assert not Group.objects.filter(name__in=["A", "B", "C"]).exists()
    assert set(AuditEvent.objects.filter(action=AuditEvent.ADMIN_DELETION).values_list("object", flat=True)) == {
        f"auth.group {g.pk}: {g.name}" for g in groups}


def test_deleting_one_object_in_the_admin_logs_it_once(admin_client):
    group = Group.objects.create(name="A")
    admin_client.post("/admin/auth/group/", {
        "action": "delete_selected", "_selected_action": [group.pk], "post": "yes"})
    assert AuditEvent.objects.filter(action=AuditEvent.ADMIN_DELETION).count() == 1


def test_making_a_token_is_logged_without_its_secret(make_user):
    analyst = make_user("analyst", "Analyst")
    token, secret = tokens.create_token(analyst, "CRM", ["read"], expires_days=3)
    event = AuditEvent.objects.get()
    assert (event.action, event.user, event.object) == (
        AuditEvent.TOKEN_CREATED, analyst, f"token {token.prefix}… of analyst")
    assert "scopes: read" in event.detail and "expires" in event.detail
    assert secret not in event.detail


def test_an_auditor_reads_the_log_in_the_admin_but_cannot_change_it(make_user):
    ensure_roles()
    auditor = make_user("auditor", "Auditor", is_staff=True)
    tokens.create_token(auditor, "x")
    event = AuditEvent.objects.get()
    client = Client()
    client.force_login(auditor)
    assert client.get("/admin/accounts/auditevent/").status_code == 200
    assert client.get(f"/admin/accounts/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/accounts/auditevent/add/").status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_staff_without_the_auditor_role_cannot_read_the_log(make_user):
    clerk = make_user("clerk", is_staff=True)
    client = Client()
    client.force_login(clerk)
    assert client.get("/admin/accounts/auditevent/").status_code == 403
    assert User.objects.filter(username="clerk").exists()

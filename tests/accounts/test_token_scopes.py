"""A scoped token may do only what its scopes name; anything else is a 403 naming the missing scope."""

import pytest
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from accounts import tokens
from accounts.models import AuditEvent
from engine.deploy import deploy
from engine.models import ProcessInstance
from tests.conftest import BPMN_DIR

pytestmark = pytest.mark.django_db

START = "/api/v1/processes/approval/instances/"
BODY = {"business_key": "Q-1", "variables": {"lines": [{"qty": 2, "price": 10}]}}


@pytest.fixture
def analyst(make_user):
    deploy((BPMN_DIR / "approval.bpmn").read_bytes(), "approval.bpmn")
    return make_user("analyst", "Analyst", "Operator")


def client_for(user, *scopes: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Token {tokens.create_token(user, scopes=scopes)[1]}")


def test_a_token_without_scopes_may_do_all_its_user_may(analyst):
    client = client_for(analyst)
    assert client.post(START, BODY, format="json").status_code == 201
    assert client.get("/api/v1/instances/").status_code == 200


def test_a_read_token_reads_but_cannot_start(analyst):
    client = client_for(analyst, "read")
    assert client.get("/api/v1/instances/").status_code == 200
    assert client.get("/api/v1/search/", {"q": "Q-1"}).status_code == 200
    response = client.post(START, BODY, format="json")
    assert response.status_code == 403
    assert response.json() == {"error": "This token lacks the scope instances:start (or instances:start:approval)",
                               "scope": "instances:start"}
    assert not ProcessInstance.objects.exists()


def test_a_start_token_starts_but_cannot_read(analyst):
    client = client_for(analyst, "instances:start")
    assert client.post(START, BODY, format="json").status_code == 201
    response = client.get("/api/v1/instances/")
    assert response.status_code == 403
    assert response.json()["scope"] == "read"


def test_a_token_for_starting_one_process_cannot_start_another(analyst):
    deploy((BPMN_DIR / "approval.bpmn").read_bytes().replace(b'id="approval"', b'id="other"'), "other.bpmn")
    client = client_for(analyst, "instances:start:approval")
    assert client.post(START, BODY, format="json").status_code == 201
    response = client.post("/api/v1/processes/other/instances/", BODY, format="json")
    assert response.status_code == 403
    assert "instances:start:other" in response.json()["error"]


def test_scopes_do_not_add_rights_the_user_lacks(make_user, analyst):
    approver = make_user("sales", "Sales")
    response = client_for(approver, "definitions:deploy").post(
        "/api/v1/definitions/", {"file": (BPMN_DIR / "approval.bpmn").open("rb")}, format="multipart")
    assert response.status_code == 403
    assert "engine.add_processdefinition" in response.json()["error"]


def test_a_scope_refusal_is_in_the_audit_log(analyst):
    client_for(analyst, "read").post(START, BODY, format="json", REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.get(action=AuditEvent.REFUSED)
    assert (event.user, event.object, event.address) == (analyst, f"POST {START}", "10.1.2.3")
    assert "lacks the scope instances:start" in event.detail and "(token lb_" in event.detail


class Undeclared(APIView):
    """A view whose author forgot to declare a scope."""

    def post(self, request):
        return Response({"done": True})


class Declared(APIView):
    required_scope = "messages:send"

    def post(self, request):
        return Response({"done": True})


def test_a_write_that_declares_no_scope_refuses_every_scoped_token_but_not_an_unscoped_one(analyst):
    def post(view, *scopes):
        secret = tokens.create_token(analyst, scopes=scopes)[1]
        return view.as_view()(APIRequestFactory().post("/x/", HTTP_AUTHORIZATION=f"Token {secret}"))

    assert post(Undeclared).status_code == 200
    refused = post(Undeclared, *tokens.SCOPES)
    assert refused.status_code == 403
    assert "use a token without scopes" in refused.data["error"]
    assert post(Declared, "messages:send").status_code == 200
    assert post(Declared, "signals:send").data == {"error": "This token lacks the scope messages:send",
                                                   "scope": "messages:send"}


def test_every_api_view_checks_token_scopes():
    """A view that sets its own permission_classes must keep TokenScopes, or scoped tokens pass it unchecked."""
    from django.urls import get_resolver
    from django.urls.resolvers import URLResolver

    from accounts.permissions import TokenScopes

    def views(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from views(pattern, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), getattr(pattern.callback, "cls", None)

    api_views = [(route, cls) for route, cls in views(get_resolver()) if route.startswith("api/v1/") and cls]
    assert len(api_views) > 10
    unchecked = [route for route, cls in api_views
                 if not any(isinstance(permission, TokenScopes) for permission in cls().get_permissions())]
    assert unchecked == []


def test_a_messages_only_token_cannot_read_the_api_schema_but_a_read_token_can(analyst):
    refused = client_for(analyst, "messages:send").get("/api/schema/")
    assert refused.status_code == 403
    assert b"scope read" in refused.content
    assert client_for(analyst, "read").get("/api/schema/").status_code == 200

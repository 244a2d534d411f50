"""manage.py create_token prints a token, as the last word of its output, that the API accepts."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.models import ApiToken
from engine.deploy import deploy
from tests.conftest import BPMN_DIR

pytestmark = pytest.mark.django_db

START = "/api/v1/processes/approval/instances/"
BODY = {"business_key": "Q-1", "variables": {"lines": [{"qty": 2, "price": 10}]}}


def create_token(*args) -> str:
    out = StringIO()
    call_command("create_token", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def analyst(make_user):
    deploy((BPMN_DIR / "approval.bpmn").read_bytes(), "approval.bpmn")
    return make_user("analyst", "Analyst")


def test_the_last_word_is_a_token_the_api_accepts(analyst):
    secret = create_token("analyst").split()[-1]
    client = APIClient(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.post(START, BODY, format="json").status_code == 201
    assert client.get("/api/v1/instances/").status_code == 200


def test_scopes_expiry_and_name_are_kept(analyst):
    out = create_token("analyst", "--scope", "instances:start:approval", "--scope", "read",
                       "--expires", "30", "--name", "CRM")
    token = ApiToken.objects.get()
    assert (token.name, token.scopes) == ("CRM", ["instances:start:approval", "read"])
    assert 29 < (token.expires_at - token.created_at).days <= 30
    secret = out.split()[-1]
    assert token.prefix in secret
    client = APIClient(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.post(START, BODY, format="json").status_code == 201
    assert client.post(f"{START}".replace("approval", "other"), BODY, format="json").status_code == 403


def test_an_unknown_scope_is_named_and_nothing_is_created(analyst):
    with pytest.raises(CommandError, match="'instance:start'"):
        create_token("analyst", "--scope", "instance:start")
    assert not ApiToken.objects.exists()


def test_an_unknown_user_is_named(analyst):
    with pytest.raises(CommandError, match="No user 'nobody'"):
        create_token("nobody")


def test_expiry_must_be_a_day_or_more(analyst):
    with pytest.raises(CommandError, match="--expires"):
        create_token("analyst", "--expires", "0")

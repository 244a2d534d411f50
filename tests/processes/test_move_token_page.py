"""The instance page moves tokens with pickers of element names and a reason; operators only."""

import pytest
from django.test import Client

from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask
from engine.runtime import start_instance
from tests.engine import bpmn


@pytest.fixture
def instance(roles):
    deploy(bpmn.user_task_process(tasks=("review", "confirm")), "reviewing.bpmn")
    started, _ = start_instance("reviewing", {"amount": 10})
    return started


@pytest.fixture
def operator(make_user):
    client = Client()
    client.force_login(make_user("op", "Operator"))
    return client


def test_the_page_offers_the_tokens_and_the_elements_by_name(instance, operator):
    page = operator.get(f"/processes/instances/{instance.pk}/").content.decode()

    assert f'action="/processes/instances/{instance.pk}/move/"' in page
    assert 'name="cancel" value="review"' in page and "Review (review)" in page
    assert '<option value="confirm">Confirm (confirm)</option>' in page
    assert "move_token.js" in page


def test_moving_a_token_on_the_page_lands_in_history_with_the_reason(instance, operator):
    response = operator.post(f"/processes/instances/{instance.pk}/move/", {
        "cancel": ["review"], "start_before": "confirm", "reason": "Approved by phone"}, follow=True)

    assert "Token moved" in response.content.decode()
    assert HumanTask.objects.get(instance=instance, state=HumanTask.OPEN).element_id == "confirm"
    event = instance.history.get(kind=HistoryEvent.TOKENS_MOVED)
    assert event.user.username == "op" and event.data["reason"] == "Approved by phone"


@pytest.mark.parametrize(("data", "says"), [
    ({"cancel": ["review"], "start_before": "confirm", "reason": ""}, "This field is required."),
    ({"reason": "why"}, "Pick a token to take away"),
    ({"cancel": ["review"], "reason": "why"}, "no token would be left"),
    ({"cancel": ["confirm"], "start_before": "review", "reason": "why"}, "Select a valid choice"),
])
def test_a_refused_move_says_why_and_changes_nothing(instance, operator, data, says):
    response = operator.post(f"/processes/instances/{instance.pk}/move/", data, follow=True)

    assert says in response.content.decode()
    assert HumanTask.objects.get(instance=instance).state == HumanTask.OPEN


def test_only_operators_see_and_use_the_move(instance, make_user):
    client = Client()
    client.force_login(make_user("auditor", "Auditor"))

    assert "/move/" not in client.get(f"/processes/instances/{instance.pk}/").content.decode()
    response = client.post(f"/processes/instances/{instance.pk}/move/", {
        "cancel": ["review"], "start_before": "confirm", "reason": "x"})
    assert response.status_code == 403
    assert HumanTask.objects.get(instance=instance).element_id == "review"


def test_the_move_speaks_chinese(instance, operator):
    from django.core.management import call_command

    call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "node_modules"], verbosity=0)
    page = operator.get(f"/processes/instances/{instance.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "移动令牌" in page and "从以下位置移走令牌" in page and "在流程图上选择" in page

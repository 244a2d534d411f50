"""The instance page lists what the instance waits for: messages with their keys, signals, timers with due times."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.utils import translation

from engine.deploy import deploy
from engine.models import Job
from engine.runtime import start_instance
from tests.engine import bpmn_events as ev


@pytest.fixture
def operator(roles) -> User:
    user = User.objects.create_user("operator", password="x")
    user.groups.add(Group.objects.get(name="Operator"))
    return user


@pytest.fixture
def racing(db):
    deploy(ev.event_gateway_process(), "racing.bpmn")
    instance, _ = start_instance("racing", {}, business_key="SO-1042")
    return instance


def waiting_table(html: str) -> str:
    return html.split('class="table waiting"', 1)[1].split("</table>", 1)[0]


def test_the_page_lists_the_message_with_its_key_the_signal_and_the_timer_due(client, operator, racing):
    client.force_login(operator)
    html = client.get(f"/processes/instances/{racing.pk}/").content.decode()

    table = waiting_table(html)
    due = Job.objects.get(instance=racing, kind=Job.TIMER).due_at
    assert "paid · business key SO-1042" in table
    assert "stop" in table and "signal" in table
    assert f"due {due:%Y-%m-%d %H:%M}" in table


def test_the_page_lists_the_waits_in_chinese(client, operator, racing):
    client.force_login(operator)
    with translation.override("zh-hans"):
        html = client.get(f"/processes/instances/{racing.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "正在等待" in html
    table = waiting_table(html)
    assert "消息" in table and "信号" in table and "定时器" in table


def test_an_ended_instance_lists_no_waits(client, operator, racing):
    from engine.runtime import cancel_instance

    cancel_instance(racing, operator)
    client.force_login(operator)
    assert 'class="table waiting"' not in client.get(f"/processes/instances/{racing.pk}/").content.decode()

"""The migration wizards on the instance and definition pages: choose, dry run as a diff, confirm with a reason."""

import pytest
from django.test import Client

from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance
from engine.runtime import start_instance
from tests.engine import bpmn


@pytest.fixture
def instance(roles):
    deploy(bpmn.user_task_process(tasks=("review",)), "v1.bpmn")
    deploy(bpmn.user_task_process(tasks=("check", "sign_off")), "v2.bpmn")
    started, _ = start_instance("reviewing", {}, version=1)
    return started


@pytest.fixture
def operator(make_user):
    client = Client()
    client.force_login(make_user("operator", "Operator"))
    return client


def test_the_instance_wizard_shows_the_dry_run_as_a_diff_then_migrates_with_a_reason(instance, operator):
    url = f"/processes/instances/{instance.pk}/migrate/"
    assert "/migrate/" in operator.get(f"/processes/instances/{instance.pk}/").content.decode()
    page = operator.get(url).content.decode()
    assert "Review (review)" in page and '<option value="check">Check (check)</option>' in page

    preview = operator.post(url, {"to_version": 2, "map_0": "check", "action": "preview"})

    text = preview.content.decode()
    assert preview.status_code == 200 and "migration-diff" in text and 'class="changed"' in text
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 1
    confirmed = operator.post(url, {"to_version": 2, "map_0": "check", "seen": instance.version,
                                    "reason": "renamed", "action": "confirm"})
    assert confirmed.status_code == 302
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 2
    assert HumanTask.objects.get(instance=instance).element_id == "check"
    assert instance.history.get(kind=HistoryEvent.MIGRATED).data["reason"] == "renamed"


def test_the_instance_wizard_names_a_waiting_element_without_counterpart_and_needs_a_reason(instance, operator):
    url = f"/processes/instances/{instance.pk}/migrate/"

    refused = operator.post(url, {"to_version": 2, "map_0": "", "action": "preview"})
    no_reason = operator.post(url, {"to_version": 2, "map_0": "check", "seen": instance.version, "reason": "",
                                    "action": "confirm"})

    assert refused.status_code == 400 and "Review (review) waits here" in refused.content.decode()
    assert no_reason.status_code == 400 and "Give a reason." in no_reason.content.decode()
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 1


def test_confirming_after_the_instance_moved_on_is_a_conflict(instance, operator, make_user):
    url = f"/processes/instances/{instance.pk}/migrate/"
    deploy(bpmn.user_task_process(tasks=("review", "sign_off")), "v3.bpmn")
    stale = instance.version
    operator.post(url, {"to_version": 3, "seen": stale, "reason": "first", "action": "confirm"})

    again = operator.post(url, {"to_version": 2, "map_0": "check", "seen": stale, "reason": "second",
                                "action": "confirm"})

    assert again.status_code == 409 and "changed since it was read" in again.content.decode()
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 3


def test_the_definition_page_counts_running_instances_per_version_and_migrates_all_after_a_dry_run(instance,
                                                                                                   operator):
    v1 = ProcessDefinition.objects.get(process_id="reviewing", version=1)
    page = operator.get(f"/processes/definitions/{v1.pk}/").content.decode()
    assert "Migrate all from v1" in page and f"/processes/definitions/{v1.pk}/migrate/" in page

    url = f"/processes/definitions/{v1.pk}/migrate/"
    wizard = operator.get(url).content.decode()
    dry = operator.post(url, {"to_version": 2, "map_0": "check", "action": "preview"})
    assert "Review (review)" in wizard
    assert "1 of 1 can move, 0 cannot." in dry.content.decode()
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 1
    done = operator.post(url, {"to_version": 2, "map_0": "check", "reason": "all", "action": "confirm"})
    assert done.status_code == 200 and "migration-results" in done.content.decode()
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 2


def test_the_wizards_are_in_chinese_too(instance, operator):
    v1 = ProcessDefinition.objects.get(process_id="reviewing", version=1)
    wizard = operator.get(f"/processes/instances/{instance.pk}/migrate/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    definition = operator.get(f"/processes/definitions/{v1.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "显示变更（试运行）" in wizard.content.decode() and "迁移到版本" in wizard.content.decode()
    assert "迁移 v1 的全部实例" in definition.content.decode()


@pytest.mark.parametrize("role", ["Analyst", "Auditor", None])
def test_only_operators_open_the_wizards(instance, make_user, role):
    client = Client()
    client.force_login(make_user("someone", *([role] if role else [])))
    v1 = ProcessDefinition.objects.get(process_id="reviewing", version=1)
    assert client.get(f"/processes/instances/{instance.pk}/migrate/").status_code in (403, 404)
    assert client.post(f"/processes/definitions/{v1.pk}/migrate/", {"to_version": 2, "reason": "x",
                                                                    "action": "confirm"}).status_code == 403
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 1


def test_the_wizard_needs_the_csrf_token(instance, make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("operator", "Operator"))
    response = client.post(f"/processes/instances/{instance.pk}/migrate/", {
        "to_version": 2, "map_0": "check", "seen": instance.version, "reason": "x", "action": "confirm"})
    assert response.status_code == 403
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 1

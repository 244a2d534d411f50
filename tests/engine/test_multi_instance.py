"""Multi-instance user tasks run one human task per item and go on after the last."""

from __future__ import annotations

import pytest

from engine import live
from engine.deploy import DeployError, deploy
from engine.models import HumanTask, ProcessInstance
from engine.runtime import cancel_instance, complete_human_task, start_instance
from tests.engine import bpmn


def camunda_task(collection: str = "${documents}", element: str = "document", sequential: bool = False) -> str:
    flag = ' isSequential="true"' if sequential else ""
    return (
        '    <bpmn:userTask id="check" name="Check document">\n'
        "      <bpmn:extensionElements><camunda:formData>\n"
        '        <camunda:formField id="ok" label="OK" type="boolean" />\n'
        "      </camunda:formData></bpmn:extensionElements>\n"
        f'      <bpmn:multiInstanceLoopCharacteristics{flag} camunda:collection="{collection}"'
        f' camunda:elementVariable="{element}" />\n'
        "    </bpmn:userTask>\n"
    )


def bpmn_task(sequential: bool = False) -> str:
    flag = ' isSequential="true"' if sequential else ""
    return (
        '    <bpmn:userTask id="check" name="Check document">\n'
        f"      <bpmn:multiInstanceLoopCharacteristics{flag}>\n"
        "        <bpmn:loopDataInputRef>documents</bpmn:loopDataInputRef>\n"
        '        <bpmn:inputDataItem id="document" name="document" />\n'
        "      </bpmn:multiInstanceLoopCharacteristics>\n"
        "    </bpmn:userTask>\n"
    )


def cardinality_task(count: str = "3") -> str:
    return (
        '    <bpmn:userTask id="check" name="Check document">\n'
        "      <bpmn:multiInstanceLoopCharacteristics>\n"
        f"        <bpmn:loopCardinality>{count}</bpmn:loopCardinality>\n"
        "      </bpmn:multiInstanceLoopCharacteristics>\n"
        "    </bpmn:userTask>\n"
    )


def process(task: str) -> bytes:
    """start → the multi-instance task `check` → user task `after` → end."""
    return bpmn.chain("fanout", task, bpmn.user_task("after"))


DOCUMENTS = ["invoice", "delivery note", "certificate"]


def open_checks(instance) -> list[HumanTask]:
    return list(instance.human_tasks.filter(element_id="check", state=HumanTask.OPEN).order_by("pk"))


@pytest.mark.parametrize("task", [camunda_task(), bpmn_task()], ids=["camunda-collection", "bpmn-data-input"])
def test_a_parallel_task_opens_one_human_task_per_item_and_goes_on_after_the_last(deployed, user, task):
    deployed(process(task))
    instance, _ = start_instance("fanout", {"documents": DOCUMENTS})

    checks = open_checks(instance)
    assert [t.data["document"] for t in checks] == DOCUMENTS
    assert {t.name for t in checks} == {"Check document"}
    for done, check in enumerate(checks, start=1):
        if done == 2:
            live.forget()  # this completion starts from the stored state
        complete_human_task(check, user, {"ok": True})
        still_open = instance.human_tasks.filter(element_id="after").exists()
        assert still_open == (done == len(DOCUMENTS))

    instance.refresh_from_db()
    assert [t.element_id for t in instance.human_tasks.filter(state=HumanTask.OPEN)] == ["after"]
    assert instance.variables["ok"] is True
    assert instance.variables["documents"] == DOCUMENTS


@pytest.mark.parametrize("task", [camunda_task(sequential=True), bpmn_task(sequential=True)],
                         ids=["camunda-collection", "bpmn-data-input"])
def test_a_sequential_task_opens_the_next_human_task_when_one_is_done(deployed, user, task):
    deployed(process(task))
    instance, _ = start_instance("fanout", {"documents": DOCUMENTS})

    seen = []
    for _ in DOCUMENTS:
        [check] = open_checks(instance)
        seen.append(check.data["document"])
        complete_human_task(check, user, {"ok": True})

    assert seen == DOCUMENTS
    assert instance.human_tasks.filter(element_id="check", state=HumanTask.COMPLETED).count() == 3
    assert instance.human_tasks.filter(element_id="after", state=HumanTask.OPEN).exists()


def test_a_collection_inside_a_variable_is_read_by_its_path(deployed, user):
    deployed(process(camunda_task(collection="${order.documents}")))

    instance, _ = start_instance("fanout", {"order": {"documents": ["a", "b"]}})

    assert [t.data["document"] for t in open_checks(instance)] == ["a", "b"]


@pytest.mark.parametrize("collection", ["#{order.documents}", "${order['documents']}", '${order["documents"]}'])
def test_a_collection_path_in_any_juel_spelling_is_read(deployed, user, collection):
    deployed(process(camunda_task(collection=collection.replace('"', "&quot;"))))

    instance, _ = start_instance("fanout", {"order": {"documents": ["a", "b"]}})

    assert [t.data["document"] for t in open_checks(instance)] == ["a", "b"]


def test_a_cardinality_opens_that_many_tasks(deployed, user):
    deployed(process(cardinality_task("count + 1")))
    instance, _ = start_instance("fanout", {"count": 2})

    checks = open_checks(instance)
    assert len(checks) == 3
    for check in checks:
        complete_human_task(check, user, {})

    assert instance.human_tasks.filter(element_id="after", state=HumanTask.OPEN).exists()


def test_an_empty_list_goes_straight_on(deployed):
    deployed(process(camunda_task()))

    instance, _ = start_instance("fanout", {"documents": []})

    assert not open_checks(instance)
    assert instance.human_tasks.filter(element_id="after", state=HumanTask.OPEN).exists()


def test_cancelling_the_instance_closes_every_open_task(deployed, user):
    deployed(process(camunda_task()))
    instance, _ = start_instance("fanout", {"documents": DOCUMENTS})
    complete_human_task(open_checks(instance)[0], user, {"ok": False})

    cancel_instance(instance, user, "customer withdrew")

    states = sorted(instance.human_tasks.values_list("state", flat=True))
    assert states == [HumanTask.CANCELLED, HumanTask.CANCELLED, HumanTask.COMPLETED]


def test_a_missing_list_fails_the_instance_naming_the_task(deployed):
    deployed(process(camunda_task()))

    instance, _ = start_instance("fanout", {})

    instance.refresh_from_db()
    assert instance.state == ProcessInstance.FAILED
    assert "check" in instance.error
    assert "documents" in instance.error


@pytest.mark.parametrize("collection", ["${documents.size() > 0 ? documents : []}", "${documents[0]}", "${}",
                                        "documents[0]"])
def test_a_collection_that_is_not_a_variable_path_is_refused_naming_the_element(db, collection):
    content = process(camunda_task(collection=collection.replace("&", "&amp;").replace(">", "&gt;")))

    with pytest.raises(DeployError) as caught:
        deploy(content, "fanout.bpmn")

    assert caught.value.element_id == "check"
    assert "camunda:collection" in caught.value.message
    assert caught.value.line is not None


def test_uploading_a_multi_instance_task_over_the_api_deploys_it(make_user, api_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    analyst = api_as(make_user("analyst", "Analyst"))
    upload = SimpleUploadedFile("fanout.bpmn", process(camunda_task()), content_type="application/xml")

    response = analyst.post("/api/v1/definitions/", {"file": upload}, format="multipart")

    assert response.status_code == 201, response.content
    assert response.json()["process_id"] == "fanout"


def test_a_timer_on_a_parallel_task_closes_every_open_instance_when_it_fires(deployed, user):
    from datetime import timedelta

    from django.utils import timezone

    from engine.jobs import run_due_work

    body = (
        bpmn.start_event() + camunda_task() + bpmn.timer_boundary("late", "check", "PT1H")
        + bpmn.user_task("chase") + bpmn.end_event() + bpmn.end_event("end_late")
        + bpmn.flow("f1", "start", "check") + bpmn.flow("f2", "check", "end")
        + bpmn.flow("f3", "late", "chase") + bpmn.flow("f4", "chase", "end_late")
    )
    deployed(bpmn.definitions("fanout", body))
    instance, _ = start_instance("fanout", {"documents": DOCUMENTS})
    complete_human_task(open_checks(instance)[0], user, {"ok": True})

    run_due_work(now=timezone.now() + timedelta(hours=2))

    checks = instance.human_tasks.filter(element_id="check")
    assert sorted(checks.values_list("state", flat=True)) == [
        HumanTask.CANCELLED, HumanTask.CANCELLED, HumanTask.COMPLETED]
    assert instance.human_tasks.filter(element_id="chase", state=HumanTask.OPEN).exists()

"""Operators migrate instances to another version over the API: one, or a batch; refusals name what is wrong."""

import pytest

from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from engine.runtime import complete_human_task, start_instance
from tests.engine import bpmn


@pytest.fixture
def versions(roles):
    """`reviewing` v1: review; v2: review → sign_off; v3: check (review renamed) → sign_off."""
    deploy(bpmn.user_task_process(tasks=("review",)), "v1.bpmn")
    deploy(bpmn.user_task_process(tasks=("review", "sign_off")), "v2.bpmn")
    deploy(bpmn.user_task_process(tasks=("check", "sign_off")), "v3.bpmn")


@pytest.fixture
def instance(versions):
    started, _ = start_instance("reviewing", {"amount": 10}, version=1)
    return started


@pytest.fixture
def operator_user(make_user):
    return make_user("operator", "Operator")


@pytest.fixture
def operator(operator_user, api_as):
    return api_as(operator_user)


def migrate(client, instance, body):
    return client.post(f"/api/v1/instances/{instance.pk}/migrate/", body, format="json")


def test_migrating_answers_where_each_waiting_element_went_and_lands_in_history_and_audit(instance, operator,
                                                                                          operator_user):
    from accounts.models import AuditEvent

    task = instance.human_tasks.get()
    HumanTask.objects.filter(pk=task.pk).update(assignee=operator_user)

    response = migrate(operator, instance, {"to_version": 2, "reason": "sign-off needed"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["instance"], body["from_version"], body["to_version"], body["migrated"]) == (instance.pk, 1, 2, True)
    assert body["elements"] == [{"element_id": "review", "name": "Review", "kind": "human_task",
                                 "to_element_id": "review", "to_name": "Review", "changed": False}]
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 2
    assert HumanTask.objects.get(pk=task.pk).assignee == operator_user
    event = instance.history.get(kind=HistoryEvent.MIGRATED)
    assert (event.user, event.data["from_version"], event.data["to_version"]) == (operator_user, 1, 2)
    assert AuditEvent.objects.filter(action=AuditEvent.OPERATION, username="operator",
                                     object=f"instance {instance.pk}",
                                     detail="instance.migrate: sign-off needed (v1 → v2)").exists()


def test_a_mapping_moves_a_waiting_element_to_a_renamed_one(instance, operator):
    response = migrate(operator, instance, {"to_version": 3, "mapping": {"review": "check"}, "reason": "renamed"})

    assert response.status_code == 200, response.content
    assert response.json()["elements"][0]["to_element_id"] == "check"
    assert HumanTask.objects.get(instance=instance).element_id == "check"


def test_a_dry_run_answers_the_plan_and_changes_nothing(instance, operator):
    before = ProcessInstance.objects.get(pk=instance.pk)

    response = migrate(operator, instance, {"to_version": 3, "mapping": {"review": "check"}, "dry_run": True})

    assert response.status_code == 200, response.content
    assert response.json()["migrated"] is False and response.json()["elements"][0]["to_element_id"] == "check"
    after = ProcessInstance.objects.get(pk=instance.pk)
    assert (after.definition_id, after.version, after.state_json) == (before.definition_id, before.version,
                                                                      before.state_json)
    assert not after.history.filter(kind=HistoryEvent.MIGRATED).exists()


@pytest.mark.parametrize(("body", "named"), [
    ({"to_version": 3, "reason": "x"}, "review"),                                    # no counterpart
    ({"to_version": 3, "mapping": {"review": "nowhere"}, "reason": "x"}, "nowhere"),  # missing target
    ({"to_version": 3, "mapping": {"ghost": "check"}, "reason": "x"}, "ghost"),       # missing source
])
def test_a_refusal_is_a_400_naming_the_elements_and_changes_nothing(instance, operator, body, named):
    before = ProcessInstance.objects.get(pk=instance.pk)

    response = migrate(operator, instance, body)

    assert response.status_code == 400, response.content
    assert named in response.json()["elements"] and named in response.json()["error"]
    after = ProcessInstance.objects.get(pk=instance.pk)
    assert (after.definition_id, after.version, after.state_json) == (before.definition_id, before.version,
                                                                      before.state_json)


@pytest.mark.parametrize(("body", "field"), [
    ({"to_version": 2}, "reason"),
    ({"to_version": 9, "reason": "x"}, "to_version"),
    ({"to_version": "two", "reason": "x"}, "to_version"),
    ({"to_version": 2, "mapping": ["review"], "reason": "x"}, "mapping"),
])
def test_bad_input_is_a_400_naming_the_field(instance, operator, body, field):
    response = migrate(operator, instance, body)

    assert response.status_code == 400, response.content
    assert field in response.json().get("fields", response.json())


def test_migrating_an_instance_already_on_that_version_or_ended_is_a_409(instance, operator, operator_user):
    assert migrate(operator, instance, {"to_version": 1, "reason": "x"}).status_code == 409
    complete_human_task(instance.human_tasks.get(), operator_user, {})
    ended = migrate(operator, instance, {"to_version": 2, "reason": "x"})
    assert ended.status_code == 409 and "completed" in ended.json()["error"]


@pytest.mark.parametrize("role", ["Analyst", "Auditor", "Manager", None])
def test_only_operators_and_superusers_migrate(instance, make_user, api_as, role):
    client = api_as(make_user("someone", *([role] if role else [])))
    single = migrate(client, instance, {"to_version": 2, "reason": "x"})
    batch = client.post("/api/v1/instances/migrate/", {"process_id": "reviewing", "from_version": 1,
                                                       "to_version": 2, "reason": "x"}, format="json")
    assert single.status_code in (403, 404) and batch.status_code == 403
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 1
    admin = api_as(make_user("root", is_superuser=True))
    assert migrate(admin, instance, {"to_version": 2, "reason": "x"}).status_code == 200


def test_a_batch_migrates_every_running_instance_of_a_version_with_a_result_each(instance, operator, operator_user):
    second, _ = start_instance("reviewing", {}, version=1)
    ended, _ = start_instance("reviewing", {}, version=1)
    complete_human_task(ended.human_tasks.get(), operator_user, {})

    response = operator.post("/api/v1/instances/migrate/", {"process_id": "reviewing", "from_version": 1,
                                                             "to_version": 2, "reason": "all"}, format="json")

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["instance"], r["ok"]) for r in results] == [(instance.pk, True), (second.pk, True)]
    assert all(set(r) >= {"instance", "ok", "detail"} for r in results)
    assert ProcessInstance.objects.get(pk=ended.pk).definition.version == 1


def test_a_batch_of_chosen_instances_reports_failures_per_instance(instance, operator):
    second, _ = start_instance("reviewing", {}, version=1)

    dry = operator.post("/api/v1/instances/migrate/", {
        "process_id": "reviewing", "from_version": 1, "to_version": 3, "instances": [instance.pk, 999_999],
        "dry_run": True}, format="json")
    mapped = operator.post("/api/v1/instances/migrate/", {
        "process_id": "reviewing", "from_version": 1, "to_version": 3, "mapping": {"review": "check"},
        "instances": [second.pk], "reason": "renamed"}, format="json")

    results = dry.json()["results"]
    assert dry.status_code == 200 and [(r["instance"], r["ok"]) for r in results] == [(instance.pk, False),
                                                                                      (999_999, False)]
    assert "review" in results[0]["detail"] and "999999" in results[1]["detail"]
    assert [p["element_id"] for p in results[0]["problems"]] == ["review"]
    assert mapped.json()["results"] == [{"instance": second.pk, "ok": True, "detail": mapped.json()["results"][0][
        "detail"], "elements": mapped.json()["results"][0]["elements"]}]
    assert ProcessInstance.objects.get(pk=second.pk).definition.version == 3
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"process_id": "reviewing", "from_version": 1, "to_version": 1, "reason": "x"}, "to_version"),
    ({"process_id": "reviewing", "from_version": 8, "to_version": 2, "reason": "x"}, "from_version"),
    ({"process_id": "reviewing", "from_version": 1, "to_version": 3, "mapping": {"review": "gone"},
      "reason": "x"}, "mapping.review"),
    ({"process_id": "reviewing", "from_version": 1, "to_version": 2}, "reason"),
])
def test_a_bad_batch_is_refused_before_any_instance_moves(instance, operator, body, field):
    response = operator.post("/api/v1/instances/migrate/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json().get("fields", response.json())
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 1

"""Operators suspend, resume and repair instances over the API and the instance page; everyone else gets 403."""

import pytest
from django.test import Client

from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from engine.runtime import start_instance
from tests.engine import bpmn

# Resuming runs what fell due when the request's transaction commits, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def instance(roles):
    deploy(bpmn.user_task_process(), "reviewing.bpmn")
    started, _ = start_instance("reviewing", {"customer": "C-1", "amount": 10})
    return started


@pytest.fixture
def operator(make_user, api_as):
    return api_as(make_user("operator", "Operator"))


def test_suspend_and_resume_answer_with_the_instance_and_land_in_history(instance, operator):
    suspended = operator.post(f"/api/v1/instances/{instance.pk}/suspend/", {"reason": "Customer on hold"},
                              format="json")
    assert suspended.status_code == 200, suspended.content
    assert suspended.json()["state"] == "suspended"

    resumed = operator.post(f"/api/v1/instances/{instance.pk}/resume/", {"reason": "Customer paid"}, format="json")
    assert resumed.status_code == 200 and resumed.json()["state"] == "active"
    history = operator.get(f"/api/v1/instances/{instance.pk}/history/").json()
    events = [(e["kind"], e["user"], e["data"].get("reason")) for e in history if e["kind"] in ("suspended", "resumed")]
    assert events == [("suspended", "operator", "Customer on hold"), ("resumed", "operator", "Customer paid")]


def test_completing_a_task_of_a_suspended_instance_gets_409_naming_the_state(instance, operator, make_user, api_as):
    operator.post(f"/api/v1/instances/{instance.pk}/suspend/", {"reason": "hold"}, format="json")
    task = instance.human_tasks.get()
    superuser = api_as(make_user("root", is_superuser=True))

    response = superuser.post(f"/api/v1/tasks/{task.pk}/complete/", {"data": {}}, format="json")

    assert response.status_code == 409 and "suspended" in response.json()["error"]
    assert HumanTask.objects.get(pk=task.pk).state == HumanTask.OPEN


def test_suspend_needs_a_reason_and_the_right_state(instance, operator):
    missing = operator.post(f"/api/v1/instances/{instance.pk}/suspend/", {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    resume_active = operator.post(f"/api/v1/instances/{instance.pk}/resume/", {"reason": "x"}, format="json")
    assert resume_active.status_code == 409 and "is active" in resume_active.json()["error"]
    assert ProcessInstance.objects.get(pk=instance.pk).state == "active"


@pytest.mark.parametrize("role", ["Analyst", "Manager", "Auditor"])
def test_only_operators_and_superusers_suspend_or_resume(instance, make_user, api_as, role):
    client = api_as(make_user("someone", role))

    for action in ("suspend", "resume"):
        response = client.post(f"/api/v1/instances/{instance.pk}/{action}/", {"reason": "x"}, format="json")
        assert response.status_code in (403, 404)
    assert ProcessInstance.objects.get(pk=instance.pk).state == "active"
    superuser = api_as(make_user("root", is_superuser=True))
    assert superuser.post(f"/api/v1/instances/{instance.pk}/suspend/", {"reason": "x"},
                          format="json").status_code == 200


def test_the_instance_page_suspends_and_resumes_with_a_reason(instance, make_user):
    client = Client()
    client.force_login(make_user("op", "Operator"))
    page = client.get(f"/processes/instances/{instance.pk}/").content.decode()
    assert f'action="/processes/instances/{instance.pk}/suspend/"' in page

    refused = client.post(f"/processes/instances/{instance.pk}/suspend/", {"reason": ""}, follow=True)
    assert "Give a reason." in refused.content.decode()
    assert ProcessInstance.objects.get(pk=instance.pk).state == "active"

    page = client.post(f"/processes/instances/{instance.pk}/suspend/", {"reason": "hold"}, follow=True)
    assert "This instance is suspended" in page.content.decode()
    client.post(f"/processes/instances/{instance.pk}/resume/", {"reason": "go"})
    assert ProcessInstance.objects.get(pk=instance.pk).state == "active"
    assert instance.history.filter(kind=HistoryEvent.RESUMED, user__username="op").count() == 1


def test_patching_variables_answers_200_and_history_keeps_old_and_new(instance, operator):
    response = operator.patch(f"/api/v1/instances/{instance.pk}/variables/", {
        "set": {"amount": 12}, "unset": ["customer"], "reason": "wrong amount"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["variables"] == {"amount": 12}
    event = instance.history.get(kind=HistoryEvent.VARIABLES_CHANGED)
    assert event.user.username == "operator" and event.data["reason"] == "wrong amount"
    assert event.data["set"] == {"amount": {"old": 10, "new": 12}} and event.data["unset"] == {"customer": "C-1"}


@pytest.mark.parametrize(("body", "named"), [
    ({"set": {"amount": 1}}, "reason"),
    ({"set": {"bad name": 1}, "reason": "x"}, "set.bad name"),
    ({"set": [1], "reason": "x"}, "set"),
    ({"unset": ["ghost"], "reason": "x"}, "ghost"),
    ({"unset": "amount", "reason": "x"}, "unset"),
])
def test_bad_variable_edits_get_400_naming_them(instance, operator, body, named):
    response = operator.patch(f"/api/v1/instances/{instance.pk}/variables/", body, format="json")

    assert response.status_code == 400 and named in response.content.decode()
    assert ProcessInstance.objects.get(pk=instance.pk).variables == {"customer": "C-1", "amount": 10}


def test_only_operators_edit_variables(instance, make_user, api_as):
    analyst = api_as(make_user("analyst", "Analyst"))

    response = analyst.patch(f"/api/v1/instances/{instance.pk}/variables/", {"set": {"amount": 1}, "reason": "x"},
                             format="json")

    assert response.status_code == 403


def test_the_variables_page_edits_with_name_value_rows(instance, make_user):
    client = Client()
    client.force_login(make_user("op", "Operator"))
    assert client.get(f"/processes/instances/{instance.pk}/variables/").status_code == 200

    response = client.post(f"/processes/instances/{instance.pk}/variables/", {
        "name_0": "amount", "value_0": "12", "name_1": "rush", "value_1": "true", "unset": ["customer"],
        "reason": "customer called"})

    assert response.status_code == 302
    assert ProcessInstance.objects.get(pk=instance.pk).variables == {"amount": 12, "rush": True}
    refused = client.post(f"/processes/instances/{instance.pk}/variables/", {"name_0": "2x", "value_0": "1",
                                                                            "reason": "x"})
    assert refused.status_code == 400 and "set.2x" in refused.content.decode()


@pytest.fixture
def two_versions(instance):
    """Process `reviewing` in version 1 (one task) and version 2 (two tasks)."""
    deploy(bpmn.user_task_process(tasks=("review", "confirm")), "reviewing.bpmn")


def test_a_start_may_choose_an_older_version(two_versions, operator, make_user, api_as):
    analyst = api_as(make_user("analyst", "Analyst"))

    chosen = analyst.post("/api/v1/processes/reviewing/instances/", {"version": 1}, format="json")
    latest = analyst.post("/api/v1/processes/reviewing/instances/", {}, format="json")

    assert chosen.status_code == 201 and chosen.json()["version"] == 1
    assert latest.json()["version"] == 2
    started = HistoryEvent.objects.get(instance_id=chosen.json()["id"], kind=HistoryEvent.STARTED)
    assert started.data["version"] == 1


@pytest.mark.parametrize(("version", "status", "named"), [(7, 404, "no version 7"), ("two", 400, "version"),
                                                           (0, 400, "version")])
def test_a_start_at_a_version_that_does_not_exist_is_refused_naming_it(two_versions, make_user, api_as, version,
                                                                       status, named):
    analyst = api_as(make_user("analyst", "Analyst"))
    before = ProcessInstance.objects.count()

    response = analyst.post("/api/v1/processes/reviewing/instances/", {"version": version}, format="json")

    assert response.status_code == status and named in response.content.decode()
    assert ProcessInstance.objects.count() == before


def test_analysts_put_a_rollout_and_get_it_with_instances_per_version(two_versions, make_user, api_as):
    analyst = api_as(make_user("analyst", "Analyst"))

    response = analyst.put("/api/v1/processes/reviewing/rollout/", {"version": 2, "percent": 25,
                                                                     "reason": "pilot"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["version"], body["percent"], body["default_version"]) == (2, 25, 1)
    assert body["updated_by"] == "analyst"
    assert body["instances"] == [{"version": 1, "running": 1, "total": 1}]
    assert analyst.get("/api/v1/processes/reviewing/rollout/").json()["percent"] == 25


@pytest.mark.parametrize("role", ["Operator", "Manager"])
def test_only_analysts_set_a_rollout(two_versions, make_user, api_as, role):
    client = api_as(make_user("someone", role))

    response = client.put("/api/v1/processes/reviewing/rollout/", {"version": 2, "percent": 25}, format="json")

    assert response.status_code == 403


@pytest.mark.parametrize(("url", "body", "status", "named"), [
    ("reviewing", {"version": 5, "percent": 10}, 400, "version"),
    ("reviewing", {"version": 2, "percent": 150}, 400, "percent"),
    ("reviewing", {"percent": 10}, 400, "version"),
    ("nobody", {"version": 1, "percent": 10}, 404, "nobody"),
])
def test_a_bad_rollout_is_refused_naming_it(two_versions, make_user, api_as, url, body, status, named):
    analyst = api_as(make_user("analyst", "Analyst"))

    response = analyst.put(f"/api/v1/processes/{url}/rollout/", body, format="json")

    assert response.status_code == status and named in response.content.decode()


def test_the_definition_page_sets_a_rollout_and_shows_the_split_in_english_and_chinese(two_versions, make_user):
    from django.core.management import call_command

    from engine.models import ProcessDefinition, Rollout

    call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "node_modules"], verbosity=0)
    definition = ProcessDefinition.objects.get(process_id="reviewing", version=2)
    operator, analyst = Client(), Client()
    operator.force_login(make_user("op", "Operator"))
    analyst.force_login(make_user("analyst", "Analyst"))

    assert operator.post(f"/processes/definitions/{definition.pk}/rollout/", {
        "version": 2, "percent": 25, "reason": "pilot"}).status_code == 403
    response = analyst.post(f"/processes/definitions/{definition.pk}/rollout/", {
        "version": 2, "percent": 25, "reason": "pilot"})

    assert response.status_code == 302
    assert Rollout.objects.get(process_id="reviewing").percent == 25
    page = analyst.get(f"/processes/definitions/{definition.pk}/").content.decode()
    assert "25 % of new instances start on version 2, the others on version 1." in page
    chinese = analyst.get(f"/processes/definitions/{definition.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "25% 的新实例在版本 2 上启动" in chinese


def test_every_operation_lands_in_the_audit_log_with_who_and_why(two_versions, instance, operator, make_user, api_as):
    from accounts.models import AuditEvent

    operator.post(f"/api/v1/instances/{instance.pk}/suspend/", {"reason": "Customer on hold"}, format="json")
    operator.patch(f"/api/v1/instances/{instance.pk}/variables/", {"set": {"amount": 3}, "reason": "typo"},
                   format="json")
    operator.post(f"/api/v1/instances/{instance.pk}/resume/", {"reason": "paid"}, format="json")
    api_as(make_user("analyst", "Analyst")).put("/api/v1/processes/reviewing/rollout/",
                                                 {"version": 2, "percent": 10, "reason": "pilot"}, format="json")

    logged = list(AuditEvent.objects.filter(action=AuditEvent.OPERATION).order_by("id")
                  .values_list("username", "object", "detail"))
    assert logged == [
        ("operator", f"instance {instance.pk}", "instance.suspend: Customer on hold"),
        ("operator", f"instance {instance.pk}", "instance.variables: typo (set: amount; unset: -)"),
        ("operator", f"instance {instance.pk}", "instance.resume: paid"),
        ("analyst", "process reviewing", "rollout: 10% on v2, else v1. pilot"),
    ]


def test_the_variables_page_changes_one_field_of_a_record_by_its_path(roles, make_user):
    deploy(bpmn.user_task_process(), "reviewing.bpmn")
    customer = {"code": "C-1", "name": "Acme", "address": {"city": "Lodnon"}}
    instance, _ = start_instance("reviewing", {"customer": customer})
    client = Client()
    client.force_login(make_user("op", "Operator"))
    page = client.get(f"/processes/instances/{instance.pk}/variables/").content.decode()
    assert "<th>customer.address.city</th><td>Lodnon</td>" in page

    response = client.post(f"/processes/instances/{instance.pk}/variables/", {
        "name_0": "customer.address.city", "value_0": "London", "name_1": "customer.vip", "value_1": "true",
        "reason": "typo in the city"})

    assert response.status_code == 302
    assert ProcessInstance.objects.get(pk=instance.pk).variables["customer"] == {
        "code": "C-1", "name": "Acme", "address": {"city": "London"}, "vip": True}
    event = instance.history.get(kind=HistoryEvent.VARIABLES_CHANGED)
    assert event.data["set"]["customer"]["old"]["address"] == {"city": "Lodnon"}
    refused = client.post(f"/processes/instances/{instance.pk}/variables/", {
        "name_0": "customer.code.x", "value_0": "1", "reason": "x"})
    assert refused.status_code == 400 and "set.customer.code.x: customer.code is no record" in refused.content.decode()
    assert ProcessInstance.objects.get(pk=instance.pk).variables["customer"]["code"] == "C-1"

"""The task page: what the approver needs to decide, and the actions on it."""

from engine.models import HistoryEvent, HumanTask

from .conftest import SMALL_LINES


def test_it_shows_customer_lines_total_and_history(client, start_quote, demo_users):
    task = start_quote()
    client.force_login(demo_users["manager"])
    response = client.get(f"/tasks/{task.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "ACME GmbH" in body
    assert "Pump P-200" in body
    assert '<span id="total">13500</span>' in body
    assert "Started" in body and "Task waiting" in body
    assert 'name="decision"' in body and 'name="comment"' in body


def test_it_shows_a_variables_table_without_quote_data(client, deploy_file, make_user):
    deploy_file("typed_form.bpmn")
    from engine import runtime

    instance, _ = runtime.start_instance("typed_form", {"amount": 5, "region": "north"})
    task = instance.human_tasks.get()
    client.force_login(make_user("fin", "Finance"))
    body = client.get(f"/tasks/{task.pk}/").content.decode()
    assert 'id="variables"' in body and "region" in body and "north" in body


def test_other_lane_gets_403_without_any_task_data(client, start_quote, demo_users):
    task = start_quote(customer="Secret Customer Ltd")
    client.force_login(demo_users["sales"])
    response = client.get(f"/tasks/{task.pk}/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "Secret Customer" not in body
    assert "Approve quote" not in body
    assert "13500" not in body


def test_unknown_task_is_404(client, demo_users, db):
    client.force_login(demo_users["manager"])
    assert client.get("/tasks/999999/").status_code == 404


def test_approving_completes_the_task_and_moves_on(client, start_quote, demo_users):
    task = start_quote()
    client.force_login(demo_users["manager"])
    response = client.post(f"/tasks/{task.pk}/complete/", {"decision": "approve", "comment": "Good margin"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == HumanTask.COMPLETED
    assert task.completed_by == demo_users["manager"]
    assert task.submitted_data == {"decision": "approve", "comment": "Good margin"}
    follow_up = task.instance.human_tasks.get(state=HumanTask.OPEN)
    assert follow_up.name == "Follow up with customer"
    assert follow_up.candidate_groups == ["Sales"]


def test_a_missing_required_field_is_shown_and_nothing_is_lost(client, start_quote, demo_users):
    task = start_quote()
    client.force_login(demo_users["manager"])
    response = client.post(f"/tasks/{task.pk}/complete/", {"decision": "", "comment": "Keep this text"})
    assert response.status_code == 400
    assert response.context["form"].errors["decision"]
    assert 'value="Keep this text"' in response.content.decode()
    task.refresh_from_db()
    assert task.state == HumanTask.OPEN


def test_second_completion_gets_409(client, start_quote, demo_users):
    task = start_quote()
    client.force_login(demo_users["manager"])
    client.post(f"/tasks/{task.pk}/complete/", {"decision": "approve"})
    response = client.post(f"/tasks/{task.pk}/complete/", {"decision": "reject"})
    assert response.status_code == 409
    assert b"already completed" in response.content
    task.refresh_from_db()
    assert task.submitted_data["decision"] == "approve"


def test_other_lane_cannot_complete(client, start_quote, demo_users):
    task = start_quote()
    client.force_login(demo_users["warehouse"])
    response = client.post(f"/tasks/{task.pk}/complete/", {"decision": "approve"})
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.state == HumanTask.OPEN


def test_task_without_form_has_approve_and_reject(client, start_quote, demo_users):
    task = start_quote(lines=SMALL_LINES)
    assert task.name == "Follow up with customer"
    client.force_login(demo_users["sales"])
    body = client.get(f"/tasks/{task.pk}/").content.decode()
    assert 'value="approve"' in body and 'value="reject"' in body
    client.post(f"/tasks/{task.pk}/complete/", {"decision": "reject", "comment": "Customer declined"})
    task.refresh_from_db()
    assert task.submitted_data == {"approved": False, "comment": "Customer declined"}


def test_claim_and_unclaim(client, start_quote, demo_users, make_user):
    task = start_quote()
    colleague = make_user("manager2", "Manager")
    client.force_login(demo_users["manager"])
    assert client.post(f"/tasks/{task.pk}/claim/").status_code == 302
    task.refresh_from_db()
    assert task.assignee == demo_users["manager"]
    assert task.instance.history.filter(kind=HistoryEvent.TASK_CLAIMED).exists()

    client.force_login(colleague)
    assert client.post(f"/tasks/{task.pk}/claim/").status_code == 403
    page = client.get(f"/tasks/{task.pk}/")
    assert page.status_code == 200
    assert b"manager is working on this task" in page.content

    client.force_login(demo_users["manager"])
    client.post(f"/tasks/{task.pk}/unclaim/")
    task.refresh_from_db()
    assert task.assignee is None


def test_delegate_to_a_member_of_the_role(client, start_quote, demo_users, make_user):
    task = start_quote()
    colleague = make_user("manager2", "Manager")
    client.force_login(demo_users["manager"])
    page = client.get(f"/tasks/{task.pk}/")
    assert list(page.context["delegate_form"].fields["to_user"].queryset) == [colleague]
    response = client.post(f"/tasks/{task.pk}/delegate/", {"to_user": colleague.pk})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == colleague


def test_delegate_to_a_non_member_is_a_form_error(client, start_quote, demo_users):
    task = start_quote()
    client.force_login(demo_users["manager"])
    response = client.post(f"/tasks/{task.pk}/delegate/", {"to_user": demo_users["sales"].pk})
    assert response.status_code == 400
    assert response.context["delegate_form"].errors["to_user"]
    task.refresh_from_db()
    assert task.assignee is None


def test_actions_only_allow_post(client, start_quote, demo_users):
    task = start_quote()
    client.force_login(demo_users["manager"])
    for action in ("complete", "claim", "unclaim", "delegate"):
        assert client.get(f"/tasks/{task.pk}/{action}/").status_code == 405


def test_forms_need_csrf(start_quote, demo_users):
    from django.test import Client

    task = start_quote()
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo_users["manager"])
    assert client.post(f"/tasks/{task.pk}/complete/", {"decision": "approve"}).status_code == 403
    task.refresh_from_db()
    assert task.state == HumanTask.OPEN

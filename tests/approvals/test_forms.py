"""Task forms from Camunda form data: types, defaults, validation, and the same checks for the API."""

import pytest
from django.core.exceptions import ValidationError

from approvals import services
from approvals.forms import DynamicForm, StartForm, start_form_fields, task_form, validate_submission
from engine import runtime
from engine.models import HumanTask


@pytest.fixture
def credit_task(deploy_file, make_user):
    deploy_file("typed_form.bpmn")
    make_user("fin", "Finance")
    instance, _ = runtime.start_instance("typed_form", {"amount": 5000, "customer": "ACME"})
    return instance.human_tasks.get()


def test_field_types_map_to_django_fields(credit_task):
    form = task_form(credit_task)
    kinds = {name: type(field).__name__ for name, field in form.fields.items()}
    assert kinds == {"limit": "IntegerField", "rating": "ChoiceField", "insured": "YesNoField",
                     "review_on": "DateField", "who": "CharField", "note": "CharField"}
    assert form.fields["limit"].required is True
    assert form.fields["note"].required is False


def test_defaults_come_from_process_variables(credit_task):
    form = task_form(credit_task)
    assert form.fields["limit"].initial == 5000  # ${amount}
    assert form.fields["who"].initial == "ACME"  # bare variable name
    assert form.fields["rating"].initial == "b"  # a literal
    assert form.fields["insured"].initial is True


def test_it_returns_cleaned_json_safe_values(credit_task):
    cleaned = validate_submission(credit_task, {"limit": "7000", "rating": "a", "insured": "false",
                                                "review_on": "2026-12-01", "who": "ACME", "note": "ok"})
    assert cleaned == {"limit": 7000, "rating": "a", "insured": False, "review_on": "2026-12-01",
                       "who": "ACME", "note": "ok"}


def test_it_rejects_values_out_of_range(credit_task):
    with pytest.raises(ValidationError) as caught:
        validate_submission(credit_task, {"limit": 200000, "rating": "z", "note": "x" * 30})
    errors = caught.value.message_dict
    assert set(errors) == {"limit", "rating", "note"}


def test_it_requires_required_fields(credit_task):
    with pytest.raises(ValidationError) as caught:
        validate_submission(credit_task, {"rating": "a"})
    assert "limit" in caught.value.message_dict


def test_it_rejects_fields_the_form_does_not_have(credit_task):
    with pytest.raises(ValidationError) as caught:
        validate_submission(credit_task, {"limit": 1, "total": 0})
    assert "total" in caught.value.message_dict


def test_it_rejects_data_that_is_not_an_object(credit_task):
    with pytest.raises(ValidationError):
        validate_submission(credit_task, ["limit"])


def test_complete_task_validates_like_the_page(credit_task, django_user_model):
    user = django_user_model.objects.get(username="fin")
    with pytest.raises(ValidationError):
        services.complete_task(credit_task, user, {"limit": -1})
    credit_task.refresh_from_db()
    assert credit_task.state == HumanTask.OPEN
    services.complete_task(credit_task, user, {"limit": "10"})
    credit_task.refresh_from_db()
    assert credit_task.submitted_data["limit"] == 10


def test_api_answers_400_with_field_errors(credit_task, django_user_model, api_as):
    user = django_user_model.objects.get(username="fin")
    response = api_as(user).post(f"/api/v1/tasks/{credit_task.pk}/complete/", {"data": {"limit": -1}}, format="json")
    assert response.status_code == 400
    assert "limit" in response.json()["fields"]


def test_a_task_without_fields_takes_any_json_object(start_quote):
    from .conftest import SMALL_LINES

    task = start_quote(lines=SMALL_LINES)
    assert validate_submission(task, {"note": "called", "n": 2}) == {"note": "called", "n": 2}
    with pytest.raises(ValidationError):
        validate_submission(task, {"_private": 1})


def test_enum_choice_and_number_aliases():
    form = DynamicForm([
        {"id": "size", "type": "choice", "options": [{"id": "s", "name": "Small"}], "validation": {"required": None}},
        {"id": "weight", "type": "number", "validation": {"min": "0.5"}},
        {"id": "remarks", "type": "text"},
    ], data={"size": "s", "weight": "0.4", "remarks": "x"})
    assert not form.is_valid()
    assert list(form.errors) == ["weight"]


def test_start_form_comes_from_the_start_event(deploy_file):
    definition = deploy_file("typed_form.bpmn")
    fields = start_form_fields(definition)
    assert [f["id"] for f in fields] == ["amount", "customer"]
    form = StartForm(fields, data={"business_key": "K", "amount": "0"})
    assert not form.is_valid() and "amount" in form.errors


def test_a_start_event_without_a_form_asks_only_for_the_business_key():
    form = StartForm([], data={"business_key": "K", "variables": '{"amount": 3}'})
    assert list(form.fields) == ["business_key"]
    assert form.is_valid() and form.variables() == {}


def test_start_page_starts_with_the_start_form(client, deploy_file, make_user):
    deploy_file("typed_form.bpmn")
    client.force_login(make_user("fin", "Finance"))
    assert b"typed_form" in client.get("/start/").content
    response = client.post("/start/typed_form/", {"business_key": "CR-9", "amount": "250", "customer": "ACME"})
    assert response.status_code == 302
    task = HumanTask.objects.get(instance__business_key="CR-9")
    assert task.instance.variables["amount"] == 250
    assert task.instance.started_by.username == "fin"


def test_start_page_has_no_json_box(client, quote_process, demo_users):
    client.force_login(demo_users["sales"])
    body = client.get("/start/quote_approval/").content.decode()
    assert "<textarea" not in body and "JSON" not in body


def test_start_page_is_closed_to_other_lanes(client, quote_process, demo_users):
    client.force_login(demo_users["warehouse"])
    assert b"quote_approval" not in client.get("/start/").content
    assert client.post("/start/quote_approval/", {"variables": "{}"}).status_code == 403


def test_a_yes_no_field_refuses_an_answer_that_is_neither():
    from django.core.exceptions import ValidationError

    from approvals.forms import validate_submission
    from engine.models import HumanTask

    task = HumanTask(form={"fields": [{"id": "approved", "label": "Approved", "type": "boolean"}]})
    assert validate_submission(task, {"approved": True}) == {"approved": True}
    assert validate_submission(task, {"approved": "false"}) == {"approved": False}
    assert validate_submission(task, {}) == {"approved": False}
    with pytest.raises(ValidationError) as error:
        validate_submission(task, {"approved": "maybe"})
    assert "approved" in error.value.message_dict

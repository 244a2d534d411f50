"""Two operators acting on one instance at once: one wins, the other is refused (409 over the API), nothing is lost."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from engine.connectors import RetryableError
from engine.deploy import deploy
from engine.jobs import retry_incident, run_due_work
from engine.models import HistoryEvent, HumanTask, Incident, ProcessInstance
from engine.modify import modify_instance
from engine.repairs import edit_variables, suspend_instance
from engine.runtime import Conflict, InstanceNotActive, TaskNotOpen, complete_human_task, start_instance
from tests.engine import bpmn
from tests.engine.test_concurrent_completion import run_together

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def needs_threads():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a file test database: set DATABASES['default']['TEST']['NAME']")


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob")


def one_loser(outcomes: list, *kinds) -> Exception:
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(losers) == 1, outcomes
    assert isinstance(losers[0], kinds), repr(losers[0])
    return losers[0]


def test_suspending_while_the_last_task_is_completed_has_one_winner(alice, bob):
    deploy(bpmn.user_task_process(), "reviewing.bpmn")
    instance, _ = start_instance("reviewing", {})
    task = instance.human_tasks.get()

    outcomes = run_together(
        lambda: suspend_instance(instance, alice, "customer on hold"),
        lambda: complete_human_task(task, bob, {"approved": "yes"}),
    )

    # Suspended first: the completion is refused (409 naming the state); completed first: nothing left to suspend.
    one_loser(outcomes, InstanceNotActive, Conflict)
    instance.refresh_from_db()
    suspended = not isinstance(outcomes[0], Exception)
    assert instance.state == (ProcessInstance.SUSPENDED if suspended else ProcessInstance.COMPLETED)
    assert HumanTask.objects.get(pk=task.pk).state == (HumanTask.OPEN if suspended else HumanTask.COMPLETED)
    assert instance.history.filter(kind=HistoryEvent.SUSPENDED).count() == int(suspended)
    assert instance.history.filter(kind=HistoryEvent.TASK_COMPLETED).count() == int(not suspended)


def test_two_variable_edits_at_once_have_one_winner_and_the_other_is_told(alice, bob):
    deploy(bpmn.user_task_process(), "reviewing.bpmn")
    instance, _ = start_instance("reviewing", {"amount": 10})

    # Both operators decided on the instance as they read it, amount 10 (as the API and the page pass it).
    seen = instance.version
    outcomes = run_together(
        lambda: edit_variables(instance, alice, {"amount": 11, "region": "north"}, [], "alice's fix",
                               seen_version=seen),
        lambda: edit_variables(instance, bob, {"amount": 12, "rush": True}, [], "bob's fix", seen_version=seen),
    )

    loser = one_loser(outcomes, Conflict)
    assert "changed since it was read" in str(loser)
    winner_set = {"amount": 11, "region": "north"} if isinstance(outcomes[1], Exception) else {"amount": 12,
                                                                                                "rush": True}
    [event] = instance.history.filter(kind=HistoryEvent.VARIABLES_CHANGED)
    assert event.data["set"]["amount"] == {"old": 10, "new": winner_set["amount"]}
    instance.refresh_from_db()
    assert instance.variables == {"amount": 10, **winner_set}
    assert instance.human_tasks.get().data["amount"] == winner_set["amount"]


def test_moving_a_token_while_its_task_is_completed_has_one_winner(alice, bob):
    deploy(bpmn.user_task_process(tasks=("review", "confirm")), "reviewing.bpmn")
    instance, _ = start_instance("reviewing", {})
    task = instance.human_tasks.get()

    outcomes = run_together(
        lambda: modify_instance(instance, alice, cancel=["review"], start_before=["review"], reason="redo",
                                seen_version=instance.version),
        lambda: complete_human_task(task, bob, {"approved": "yes"}),
    )

    # Moved first: the task's row is cancelled and its completion refused (409). Completed first: the move
    # was decided on tokens that have moved since, and is refused as a conflict (409).
    loser = one_loser(outcomes, TaskNotOpen, Conflict)
    moved = not isinstance(outcomes[0], Exception)
    assert moved or isinstance(loser, Conflict)
    open_now = list(HumanTask.objects.filter(instance=instance, state=HumanTask.OPEN).values_list("element_id",
                                                                                               flat=True))
    assert open_now == (["review"] if moved else ["confirm"])
    assert HumanTask.objects.get(pk=task.pk).state == (HumanTask.CANCELLED if moved else HumanTask.COMPLETED)
    assert instance.history.filter(kind=HistoryEvent.TOKENS_MOVED).count() == int(moved)
    # Nothing corrupted: the instance runs to its end from where it is.
    for _ in range(3):
        current = HumanTask.objects.filter(instance=instance, state=HumanTask.OPEN).first()
        if current is None:
            break
        complete_human_task(current, alice, {})
    assert ProcessInstance.objects.get(pk=instance.pk).state == ProcessInstance.COMPLETED


def test_two_retries_of_one_incident_at_once_run_the_call_once(operation, alice, bob):
    calls = []

    def post(call):
        calls.append(call.idempotency_key)
        if len(calls) == 1:
            raise RetryableError("ERP unreachable")
        return {"number": "SO-1"}

    operation("test.erp_post", post)
    deploy(bpmn.service_process("test.erp_post", retries=1, result_variable="posting"), "servicing.bpmn")
    instance, _ = start_instance("servicing", {})
    run_due_work(now=timezone.now())
    incident = Incident.objects.get(instance=instance)

    outcomes = run_together(
        lambda: retry_incident(incident, alice, "ERP back"),
        lambda: retry_incident(incident, bob, "ERP back"),
    )

    # The API answers the loser's ValueError with 409.
    one_loser(outcomes, ValueError)
    assert len(calls) == 2  # the first attempt, and one retry
    assert Incident.objects.get(pk=incident.pk).state == Incident.RESOLVED
    assert instance.history.filter(kind=HistoryEvent.INCIDENT_RETRIED).count() == 1
    assert instance.human_tasks.get().element_id == "after"

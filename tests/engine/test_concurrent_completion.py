"""Two approvers completing the same task at once: one wins, the other is told so."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask
from engine.runtime import Conflict, TaskNotOpen, complete_human_task, start_instance
from tests.engine import bpmn


def run_together(*calls) -> list:
    """Run each call in its own thread, released at the same moment; returns results or exceptions."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_approvers_completing_one_task_at_once_get_one_winner(django_user_model):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a file test database: set DATABASES['default']['TEST']['NAME']")
    alice = django_user_model.objects.create_user("alice")
    bob = django_user_model.objects.create_user("bob")
    deploy(bpmn.user_task_process(tasks=("review", "sign_off")), "review.bpmn")
    instance, _ = start_instance("reviewing", {})
    task = instance.human_tasks.get(element_id="review")

    outcomes = run_together(
        lambda: complete_human_task(task, alice, {"approved": "alice"}),
        lambda: complete_human_task(task, bob, {"approved": "bob"}),
    )

    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(losers) == 1, outcomes
    assert isinstance(losers[0], (TaskNotOpen, Conflict)), repr(losers[0])
    assert instance.history.filter(kind=HistoryEvent.TASK_COMPLETED).count() == 1
    assert HumanTask.objects.filter(instance=instance, element_id="sign_off").count() == 1
    task.refresh_from_db()
    assert task.state == HumanTask.COMPLETED
    assert task.submitted_data["approved"] == task.completed_by.username

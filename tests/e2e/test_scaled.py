"""The scaled setup: PostgreSQL, Redis and real Celery worker processes.

Run by .ci/run with DATABASE_URL and CELERY_BROKER_URL set (`pytest -m scaled`).
"""

import threading

import pytest
from django.db import connection

from engine import runtime
from engine.deploy import deploy
from engine.models import HistoryEvent, HumanTask, Job, ProcessInstance
from lanebridge.celery import app
from tests.celery_workers import require_scaled_setup, start_workers, stop_workers, wait_for
from tests.conftest import BPMN_DIR

pytestmark = [pytest.mark.scaled, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(db):
    """Two real `celery -A lanebridge worker` processes on the test database."""
    require_scaled_setup()
    app.control.purge()
    procs = start_workers(2)
    yield procs
    stop_workers(procs)


@pytest.fixture
def approval(roles):
    deploy((BPMN_DIR / "approval.bpmn").read_bytes(), "approval.bpmn")


def test_a_worker_process_runs_the_service_call_and_completes_the_instance(workers, approval, make_user, api_as):
    manager = make_user("manager", "Manager")
    analyst = make_user("analyst", "Analyst")
    started = api_as(analyst).post(
        "/api/v1/processes/approval/instances/",
        {"business_key": "Q-100", "variables": {"lines": [{"qty": 3, "price": 5}]}}, format="json")
    assert started.status_code == 201, started.content
    task_id = started.json()["tasks"][0]["id"]

    done = api_as(manager).post(f"/api/v1/tasks/{task_id}/complete/", {"data": {"approved": True}}, format="json")
    assert done.status_code == 200, done.content
    instance_id = started.json()["id"]
    assert wait_for(lambda: ProcessInstance.objects.get(pk=instance_id).state == "completed")

    instance = ProcessInstance.objects.get(pk=instance_id)
    assert instance.variables["echo"]["input"] == {"total": 15}
    job = Job.objects.get(instance=instance)
    assert job.state == Job.DONE and job.attempts == 1
    kinds = list(instance.history.values_list("kind", flat=True))
    assert kinds[-3:] == [HistoryEvent.SERVICE_ATTEMPT, HistoryEvent.SERVICE_RESULT, HistoryEvent.COMPLETED]


def test_many_instances_across_two_workers_call_each_service_once(workers, approval, make_user):
    manager = make_user("manager", "Manager")
    ids = []
    for n in range(20):
        instance, _ = runtime.start_instance("approval", {"lines": [{"qty": n, "price": 2}]}, f"Q-{n}")
        ids.append(instance.pk)
    for task in HumanTask.objects.filter(instance_id__in=ids):
        runtime.complete_human_task(task, manager, {"approved": True})

    assert wait_for(lambda: ProcessInstance.objects.filter(pk__in=ids, state="completed").count() == 20)
    attempts = HistoryEvent.objects.filter(instance_id__in=ids, kind=HistoryEvent.SERVICE_ATTEMPT).count()
    assert attempts == 20
    assert set(Job.objects.filter(instance_id__in=ids).values_list("attempts", flat=True)) == {1}


def test_two_approvers_completing_the_same_task_on_postgres_one_wins(approval, make_user):
    manager = make_user("manager", "Manager")
    instance, _ = runtime.start_instance("approval", {"lines": []}, "Q-race")
    task = HumanTask.objects.get(instance=instance)
    barrier = threading.Barrier(2)
    outcomes = []

    def complete():
        barrier.wait()
        try:
            runtime.complete_human_task(task, manager, {"approved": True})
            outcomes.append("ok")
        except (runtime.TaskNotOpen, runtime.Conflict) as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("ok") == 1
    assert instance.history.filter(kind=HistoryEvent.TASK_COMPLETED).count() == 1

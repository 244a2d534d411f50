"""A script that computes in C, eats memory or catches its own timeout fails its instance, and only its instance."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from django.db import connection, connections

from engine import sandbox
from engine.deploy import deploy
from engine.models import HistoryEvent, Incident, ProcessInstance
from engine.restricted import is_bounded
from engine.runtime import complete_human_task, start_instance
from engine.scripts import SCRIPT_ENGINE, ScriptLimitExceeded, ScriptTimeout
from tests.engine import bpmn
from tests.engine.test_scripts_sandbox import hard_deadline

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 2
# Time for a worker to start on a busy machine, and for the instance to be failed and saved.
LEEWAY = 15


@pytest.fixture(autouse=True)
def limits(settings):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a file test database: set DATABASES['default']['TEST']['NAME']")
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "SCRIPT_TIMEOUT_SECONDS": TIMEOUT, "SCRIPT_WORKERS": 2,
                           "SCRIPT_MEMORY_MB": 256}


def assert_failed_on(instance: ProcessInstance, element_id: str, limit_text: str) -> None:
    instance.refresh_from_db()
    assert instance.state == ProcessInstance.FAILED
    incident = Incident.objects.get(instance=instance)
    assert incident.element_id == element_id
    assert limit_text in incident.message
    assert element_id in instance.error
    assert instance.history.filter(kind=HistoryEvent.FAILED, element_id=element_id).exists()


class Bystander(threading.Thread):
    """While a bomb runs: a script in the pool, a read, and a start + completion of another instance."""

    def __init__(self, bomb_done: threading.Event):
        super().__init__()
        self.bomb_done = bomb_done
        self.script_answered_during_bomb = None
        self.read_answered_during_bomb = None
        self.other: ProcessInstance | None = None
        self.error: BaseException | None = None

    def run(self):
        try:
            # The bomb's worker is busy, or the bomb has already been refused (memory).
            while not sandbox.POOL.busy() and not self.bomb_done.is_set():
                time.sleep(0.01)
            context = {"amount": 41}
            SCRIPT_ENGINE.environment.execute("amount += 1", context, {})
            assert context == {"amount": 42}
            self.script_answered_during_bomb = not self.bomb_done.is_set()
            ProcessInstance.objects.filter(state=ProcessInstance.ACTIVE).count()
            self.read_answered_during_bomb = not self.bomb_done.is_set()
            # A write: on SQLite it waits for the bomb's transaction to let go of the write lock.
            other, _ = start_instance("reviewing", {"amount": 1})
            task = other.human_tasks.get()
            self.other = complete_human_task(task, None, {"approved": "yes"})
        except BaseException as exc:  # noqa: BLE001 - the test reports what the bystander got
            self.error = exc
        finally:
            connections.close_all()


def run_bomb(script: str) -> tuple[ProcessInstance, Bystander]:
    deploy(bpmn.script_process(script, process_id="bomb"), "bomb.bpmn")
    deploy(bpmn.user_task_process(script="doubled = amount * 2"), "review.bpmn")
    bomb_done = threading.Event()
    bystander = Bystander(bomb_done)
    bystander.start()
    try:
        with hard_deadline(TIMEOUT + LEEWAY):
            bomb, _ = start_instance("bomb", {})
    finally:
        bomb_done.set()
        bystander.join(timeout=60)
    assert not bystander.is_alive()
    assert bystander.error is None, repr(bystander.error)
    return bomb, bystander


@pytest.mark.parametrize(
    "script",
    [
        "x = 9 ** (9 ** 9)",
        "try:\n    while True:\n        pass\nexcept Exception:\n    pass",
        "x = sum(range(5 * 10 ** 8))",
    ],
    ids=["power", "loop-catching-its-timeout", "sum-of-range"],
)
def test_a_script_running_past_the_timeout_fails_its_instance_while_others_are_served(script):
    bomb, bystander = run_bomb(script)

    assert_failed_on(bomb, "script", f"script ran longer than {TIMEOUT} s")
    assert bystander.script_answered_during_bomb
    assert bystander.read_answered_during_bomb
    assert bystander.other.state == ProcessInstance.COMPLETED
    assert bystander.other.variables["doubled"] == 2
    # The write lock was let go: the next write goes through.
    after, _ = start_instance("reviewing", {"amount": 5})
    assert after.state == ProcessInstance.ACTIVE


def test_a_script_asking_for_gigabytes_fails_its_instance_naming_the_memory_limit():
    bomb, bystander = run_bomb('x = "x" * 3 * 10 ** 9')

    assert_failed_on(bomb, "script", "more than 256 MB of memory (LANEBRIDGE_SCRIPT_MEMORY_MB)")
    assert bystander.other.state == ProcessInstance.COMPLETED


def test_a_condition_running_past_the_timeout_fails_the_instance_at_the_gateway():
    deploy(bpmn.gateway_process(condition="9 ** (9 ** 9) > amount"), "routing.bpmn")

    with hard_deadline(TIMEOUT + LEEWAY):
        instance, _ = start_instance("routing", {"amount": 1})

    assert_failed_on(instance, "decide", f"script ran longer than {TIMEOUT} s")


def test_a_service_parameter_running_past_the_timeout_fails_the_instance_and_calls_nothing(operation):
    calls = []
    operation("probe.record", lambda call: calls.append(call.input) or {})
    deploy(bpmn.service_process("probe.record", {"n": "sum(range(10 ** 12))"}), "service.bpmn")

    with hard_deadline(TIMEOUT + LEEWAY):
        instance, _ = start_instance("servicing", {})

    assert_failed_on(instance, "call", f"script ran longer than {TIMEOUT} s")
    assert not instance.jobs.exists()
    assert calls == []


def test_a_worker_killed_at_the_deadline_is_replaced_and_the_next_script_runs():
    with pytest.raises(ScriptTimeout):
        SCRIPT_ENGINE.environment.execute("while True:\n    pass", {}, {})
    context = {"lines": [1, 2, 3]}

    SCRIPT_ENGINE.environment.execute("total = sum(lines)", context, {})

    assert context["total"] == 6


def test_a_worker_whose_server_died_mid_script_is_stopped_by_its_cpu_limit():
    # Nobody is left to kill it at the deadline: the kernel's CPU limit does.
    worker = sandbox.Worker(256 * 1024 * 1024)
    sandbox.write_frame(worker.requests, b'{"mode": "exec", "source": "while True:\\n    pass", "variables": {}, '
                                         b'"timeout": 1, "max_value": 1000, "max_total": 1000}')
    worker.close()

    returncode = worker.process.wait(timeout=60)

    assert returncode == -signal.SIGXCPU


def test_a_worker_runs_with_a_memory_limit_no_children_and_no_secrets():
    worker = sandbox.Worker(128 * 1024 * 1024)
    try:
        limits = open(f"/proc/{worker.process.pid}/limits").read()
        environment = open(f"/proc/{worker.process.pid}/environ", "rb").read()
    finally:
        worker.kill()

    assert "Max address space" in limits and str(128 * 1024 * 1024) in limits
    assert [line.split()[-3] for line in limits.splitlines() if line.startswith("Max processes")] == ["0"]
    assert b"SECRET_KEY" not in environment and b"DATABASE" not in environment


def test_the_pool_reuses_its_workers():
    context: dict = {}
    SCRIPT_ENGINE.environment.execute("a = 1", context, {})
    workers = sandbox.POOL.pids()

    for n in range(20):
        SCRIPT_ENGINE.environment.execute(f"b = {n}", context, {})

    assert sandbox.POOL.pids() == workers
    assert len(workers) <= 2


def test_a_forked_process_runs_scripts_in_workers_of_its_own():
    SCRIPT_ENGINE.environment.execute("a = 1", {}, {})
    parents_workers = sandbox.POOL.pids()
    read_end, write_end = os.pipe()

    pid = os.fork()
    if pid == 0:  # the child, as a Celery prefork child or a gunicorn worker would be
        try:
            context = {"a": 20}
            SCRIPT_ENGINE.environment.execute("b = a + 1", context, {})
            os.write(write_end, f"{context['b']} {' '.join(map(str, sandbox.POOL.pids()))}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    answer = os.read(read_end, 1000).decode().split()
    os.waitpid(pid, 0)

    assert answer[0] == "21"
    assert answer[1:] and not set(map(int, answer[1:])) & parents_workers
    context = {"a": 1}
    SCRIPT_ENGINE.environment.execute("b = a + 1", context, {})
    assert context["b"] == 2


def test_a_script_that_cannot_be_stored_fails_naming_the_variable():
    with pytest.raises(ScriptLimitExceeded, match="loop cannot be stored"):
        SCRIPT_ENGINE.environment.execute("loop = []\nloop.append(loop)", {}, {})


@pytest.mark.parametrize("expression", ['decision == "approve"', 'sale["sale_id"]', "opportunity_id is not None",
                                        "total > threshold and not rejected", "-amount", "lines[1:]", '"PT24H"'])
def test_an_expression_that_only_reads_and_compares_is_evaluated_without_a_worker(expression):
    assert is_bounded(expression)


@pytest.mark.parametrize("expression", ["9 ** (9 ** 9)", '"x" * 10 ** 9', "sum(range(10 ** 12))", "a + b",
                                        "[x for x in lines]", "x in text", " == ".join(["a"] * 40)])
def test_an_expression_that_could_compute_or_build_anything_goes_to_a_worker(expression):
    assert not is_bounded(expression)


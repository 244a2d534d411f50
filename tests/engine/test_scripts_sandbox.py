"""Script tasks run in a restricted, time-bounded evaluator; ordinary scripts still work."""

from __future__ import annotations

import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine.deploy import DeployError, deploy
from engine.models import HistoryEvent, Incident, ProcessInstance
from engine.runtime import start_instance
from engine.scripts import SCRIPT_ENGINE, ScriptRejected
from tests.engine import bpmn

LINES = [{"qty": 2, "price": 3.5}, {"qty": 1, "price": 10.0}, {"qty": 4, "price": 0.25}]


class EngineDidNotStopTheScript(BaseException):
    """Raised by the test's own alarm when the engine's timeout failed to stop a script."""


@contextmanager
def hard_deadline(seconds: float):
    """Stop the test (not the suite) if the engine lets a script run past `seconds`."""

    def on_alarm(signum, frame):
        raise EngineDidNotStopTheScript(f"the script was still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_script(script: str, variables: dict | None = None) -> ProcessInstance:
    deploy(bpmn.script_process(script), "script.bpmn")
    instance, _ = start_instance("scripted", {"lines": LINES} if variables is None else variables)
    instance.refresh_from_db()
    return instance


def assert_failed_on_the_script(instance: ProcessInstance) -> None:
    assert instance.state == ProcessInstance.FAILED
    assert "script" in instance.error
    incident = Incident.objects.get(instance=instance)
    assert incident.element_id == "script"
    assert instance.history.filter(kind=HistoryEvent.FAILED, element_id="script").exists()
    assert not instance.human_tasks.exists()


def test_the_process_survives_a_failed_script_and_runs_the_next_one(db):
    failed = run_script("x = open('/etc/hostname').read()")
    deploy(bpmn.script_process("y = 1", process_id="other"), "other.bpmn")
    other, _ = start_instance("other", {})

    assert failed.state == ProcessInstance.FAILED
    assert other.state == ProcessInstance.ACTIVE
    assert sys.gettrace() is None or "pytest" in repr(sys.gettrace()) or "coverage" in repr(sys.gettrace())


@pytest.mark.parametrize(
    "script",
    [
        "x = open('/etc/hostname').read()",
        "x = str(getattr(lines, '__class__'))",
        "x = getattr(lines, 'append')",
        "x = globals()",
        "x = vars()",
    ],
    ids=["open", "getattr-dunder", "getattr-method", "globals", "vars"],
)
def test_a_forbidden_call_fails_the_instance_at_run_time_naming_the_element(db, script):
    instance = run_script(script)

    assert_failed_on_the_script(instance)


@pytest.mark.parametrize(
    "script",
    [
        "import os",
        "from os import path",
        'x = __import__("os")',
        "x = ().__class__.__mro__[1].__subclasses__()",
        'x = eval("1")',
        'exec("x = 1")',
    ],
    ids=["import", "from-import", "__import__", "dunder-walk", "eval", "exec"],
)
def test_a_forbidden_script_is_refused_at_deploy_naming_the_element(db, script):
    with pytest.raises(DeployError) as caught:
        deploy(bpmn.script_process(script), "script.bpmn")

    assert caught.value.element_id == "script"
    assert "script" in caught.value.message


@pytest.mark.parametrize(
    "script",
    ["import os", 'x = __import__("os")', "x = ().__class__.__mro__[1].__subclasses__()", 'x = eval("1")'],
    ids=["import", "__import__", "dunder-walk", "eval"],
)
def test_the_evaluator_refuses_at_run_time_what_deploy_refuses(script):
    # A definition stored before a rule existed must not get past the evaluator either.
    with pytest.raises((ScriptRejected, SyntaxError)):
        SCRIPT_ENGINE.environment.execute(script, {}, {})


@pytest.mark.parametrize(
    "script",
    ["while True:\n    pass", "x = 0\nwhile True:\n    x += 1", "x = sum(1 for _ in range(10 ** 12))"],
    ids=["loop", "counter", "generator"],
)
def test_an_endless_script_is_stopped_after_the_timeout(db, settings, script):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "SCRIPT_TIMEOUT_SECONDS": 0.5}

    with hard_deadline(5):
        instance = run_script(script)

    assert_failed_on_the_script(instance)
    assert "0.5" in Incident.objects.get(instance=instance).message


WORKER = """
import os, sys
sys.path.insert(0, {root!r})
os.environ["DJANGO_SETTINGS_MODULE"] = "lanebridge.settings"
import django
django.setup()
from django.conf import settings
settings.LANEBRIDGE["SCRIPT_TIMEOUT_SECONDS"] = 0.5
from engine.scripts import SCRIPT_ENGINE, ScriptTimeout
try:
    SCRIPT_ENGINE.environment.execute({source!r}, {{}}, {{}})
except ScriptTimeout as exc:
    print("stopped:", exc)
"""


@pytest.mark.parametrize("script", ["while True: pass", "x = [1 for _ in range(10 ** 10)]"], ids=["loop", "list-comp"])
def test_a_one_line_endless_loop_is_stopped_in_a_plain_worker_process(script, tmp_path):
    # In a process with no other threads, nothing else makes Python report a
    # new line, so a loop written on one line is the hard case for a line tracer.
    root = str(Path(__file__).resolve().parents[2])
    env = {"PATH": "/usr/bin:/bin", "LANEBRIDGE_VAR": str(tmp_path), "HOME": str(tmp_path)}
    try:
        done = subprocess.run([sys.executable, "-c", WORKER.format(root=root, source=script)], env=env,
                              capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{script!r} was still running after 10 s with SCRIPT_TIMEOUT_SECONDS=0.5")
    assert "stopped: script ran longer than 0.5 s" in done.stdout, done.stderr


@pytest.mark.parametrize(
    ("script", "name", "expected"),
    [
        ("total = sum(line['qty'] * line['price'] for line in lines)", "total", 18.0),
        ("big = [line['qty'] for line in lines if line['qty'] > 1]", "big", [2, 4]),
        ("summary = {'count': 3, 'items': [1, 2, 3]}", "summary", {"count": 3, "items": [1, 2, 3]}),
        ("counter = 10\ncounter += 5", "counter", 15),
        ("cheapest = min(line['price'] for line in lines)", "cheapest", 0.25),
        ("dearest = max(line['price'] for line in lines)", "dearest", 10.0),
        ("rounded = round(18.0 / 7, 2)", "rounded", 2.57),
        ("count = len(lines)", "count", 3),
        ("ordered = sorted(line['price'] for line in lines)", "ordered", [0.25, 3.5, 10.0]),
        ("by_qty = {line['qty']: line['price'] for line in lines}", "by_qty", {"2": 3.5, "1": 10.0, "4": 0.25}),
    ],
    ids=["sum", "comprehension", "literals", "augmented", "min", "max", "round", "len", "sorted", "dict-comp"],
)
def test_an_ordinary_script_works(db, script, name, expected):
    instance = run_script(script)

    assert instance.state == ProcessInstance.ACTIVE, instance.error
    assert instance.variables[name] == expected


def test_a_condition_runs_in_the_same_evaluator(db):
    deploy(bpmn.gateway_process(condition="amount > 1000 and len(items) > 0"), "routing.bpmn")

    big, _ = start_instance("routing", {"amount": 5000, "items": [1]})
    small, _ = start_instance("routing", {"amount": 10, "items": [1]})

    assert big.human_tasks.get().element_id == "manager"
    assert small.human_tasks.get().element_id == "clerk"

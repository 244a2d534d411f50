"""`manage.py serve` runs the web app under gunicorn and supervises its children.

Each test starts the real command as a subprocess on a free port, with its own SQLite
database in a temporary LANEBRIDGE_VAR (the embedded setup), and talks to it over HTTP.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.conftest import BPMN_DIR

pytestmark = pytest.mark.timeout(240)

MANAGE = str(settings.BASE_DIR / "manage.py")

# Run by `manage.py shell` (one start-up instead of three): the database, the approval process, and an
# analyst who may start it, with an API token.
SETUP = """
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from accounts.tokens import create_token
from engine.deploy import deploy
from processes.roles import ensure_roles
from tests.engine import bpmn
call_command("migrate", verbosity=0)
call_command("deploy_bpmn", {bpmn!r})
deploy(bpmn.service_process("test.hang_once", process_id="hanging"), "hanging.bpmn")
ensure_roles()
user = User.objects.create_user("analyst", password="pw")
user.groups.add(Group.objects.get(name="Analyst"))
print("TOKEN", create_token(user, "serve tests")[1])
"""


def embedded_env(var: Path) -> dict[str, str]:
    """The environment of an embedded setup in `var`, whatever database the test run itself uses."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "SQLITE_PATH")}
    return {**env, "LANEBRIDGE_VAR": str(var), "LANEBRIDGE_WEB_WORKERS": "2", "LANEBRIDGE_WEB_THREADS": "4",
            "PYTHONUNBUFFERED": "1", "LANEBRIDGE_CONNECTOR_MODULES": "tests.processes.hanging_connector"}


def manage(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, MANAGE, *args], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A running `manage.py serve` and everything it printed so far."""

    def __init__(self, env: dict, port: int):
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([sys.executable, MANAGE, "serve", "--addr", f"127.0.0.1:{port}"], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for(lambda: self.answers("/accounts/login/"), "the login page")

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def answers(self, path: str) -> bool:
        try:
            return requests.get(self.url + path, timeout=5).status_code == 200
        except requests.RequestException:  # not up yet, or too busy booting to answer
            return False

    def wait_for(self, condition, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, f"serve exited while waiting for {what}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {what} within {timeout} s:\n{self.output}"
            time.sleep(0.2)

    def child_pid(self, name: str) -> int:
        """The pid of the newest `name` child, from what serve logged."""
        return int(re.findall(rf"\b{name} (?:restarted )?\(pid (\d+)\)", self.output)[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)


def descendants(pid: int) -> set[int]:
    """Every process started by `pid`, and by those, read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = {p for p, pp in parents.items() if pp == parent}
        todo.extend(children - found)
        found |= children
    return found


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A migrated embedded setup: the approval process deployed and an analyst's API token."""
    var = tmp_path_factory.mktemp("var")
    env = embedded_env(var)
    out = manage(env, "shell", "-c", SETUP.format(bpmn=str(BPMN_DIR / "approval.bpmn")))
    token = out.split("TOKEN")[-1].strip()
    return env, token, var


@pytest.fixture(scope="module")
def served(site):
    env, _, _ = site
    served = Served(env, free_port())
    yield served
    served.stop()


def test_serve_answers_pages_and_static_files_under_gunicorn(served):
    page = requests.get(served.url + "/accounts/login/", timeout=10)
    assert page.status_code == 200 and page.headers["Server"].startswith("gunicorn")
    assert 'name="username"' in page.text
    style = requests.get(served.url + "/static/admin/css/base.css", timeout=10)
    assert style.status_code == 200 and style.headers["Content-Type"].startswith("text/css")
    assert "Lanebridge is up" in served.output and f"inbox     {served.url}/" in served.output
    # A path that climbs out of the static folder finds nothing and breaks nothing.
    with socket.create_connection(("127.0.0.1", int(served.url.rpartition(":")[2])), timeout=10) as raw:
        raw.sendall(b"GET /static/../../../../etc/passwd HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        head = raw.recv(200).decode()
    assert head.startswith("HTTP/1.1 404") or head.startswith("HTTP/1.0 404"), head


def test_serve_refuses_a_port_already_in_use(site, served):
    env, _, _ = site
    done = subprocess.run([sys.executable, MANAGE, "serve", "--addr", served.url.removeprefix("http://")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "already in use" in done.stderr


def test_200_concurrent_starts_are_all_answered_without_a_locked_database(site, served):
    _, token, _ = site
    start = threading.Barrier(200)

    def start_one(n: int) -> int | str:
        start.wait()
        try:
            return requests.post(served.url + "/api/v1/processes/approval/instances/", timeout=120,
                                 headers={"Authorization": f"Token {token}"},
                                 json={"business_key": f"Q-{n}", "variables": {"lines": [{"qty": 1, "price": n}]}},
                                 ).status_code
        except requests.RequestException as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(200) as pool:
        answers = list(pool.map(start_one, range(200)))

    assert {a: answers.count(a) for a in answers} == {201: 200}
    assert "database is locked" not in served.output
    listed = requests.get(served.url + "/api/v1/instances/?business_key=Q-199", timeout=10,
                          headers={"Authorization": f"Token {token}"}).json()
    assert listed["count"] == 1


def test_a_child_that_dies_is_restarted_and_the_restart_logged(served):
    for name in ("scheduler", "web"):
        pid = served.child_pid(name)
        os.kill(pid, signal.SIGKILL)
        served.wait_for(lambda name=name, pid=pid: served.child_pid(name) != pid, f"a new {name}")
        assert re.search(rf"{name} \(pid {pid}\) exited with signal SIGKILL .*; restarting in", served.output)
        assert is_running(served.child_pid(name))
    # The new gunicorn answers.
    served.wait_for(lambda: served.answers("/accounts/login/"), "the login page again")


def test_sigterm_stops_serve_and_every_process_it_started(site):
    env, _, _ = site
    served = Served(env, free_port())
    started = descendants(served.process.pid)
    assert len(started) >= 4  # gunicorn, its workers, the scheduler

    served.process.send_signal(signal.SIGTERM)

    assert served.process.wait(60) == 0
    assert [pid for pid in started if is_running(pid)] == []
    assert "serve: stopped" in served.output


def test_after_serve_is_killed_mid_call_the_next_start_runs_the_call_again_at_once(site, served):
    # Last in this module: it kills the module's server.
    env, token, var = site
    headers = {"Authorization": f"Token {token}"}

    def start_hanging() -> None:
        try:
            requests.post(served.url + "/api/v1/processes/hanging/instances/", headers=headers, json={}, timeout=600)
        except requests.RequestException:
            pass  # the server is killed before it answers

    threading.Thread(target=start_hanging, daemon=True).start()

    def claimed() -> list[tuple]:
        with sqlite3.connect(var / "lanebridge.sqlite3", timeout=20) as db:
            return db.execute("SELECT id, instance_id, claimed_by FROM engine_job WHERE state = 'running'").fetchall()

    served.wait_for(lambda: (var / "hung-once").exists() and claimed(), "the call under way")
    [(job, instance, claimed_by)] = claimed()
    # Killed outright, with everything it started, in the middle of the call.
    tree = descendants(served.process.pid)
    for pid in [served.process.pid, *tree]:
        os.kill(pid, signal.SIGKILL)
    served.process.wait()
    assert claimed() == [(job, instance, claimed_by)]  # its lease has minutes to run

    again = Served(env, free_port())
    try:
        def reached_the_next_task() -> bool:
            answer = requests.get(f"{again.url}/api/v1/instances/{instance}/", headers=headers, timeout=10).json()
            return [t["element_id"] for t in answer["tasks"]] == ["after"]

        again.wait_for(reached_the_next_task, "the instance to go on", timeout=60)
        assert "Took back 1 job(s)" in again.output
        assert claimed() == []
    finally:
        again.stop()

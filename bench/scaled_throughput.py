"""Scaled throughput: the demo process over the REST API under gunicorn, PostgreSQL + Redis + Celery workers,
beside the embedded setup (SQLite, calls run in the web processes), measured in the same run.

Run: ``.venv/bin/python bench/scaled_throughput.py [--instances 200] [--clients 20] [--workers 2]``.
Prints figures; asserts nothing. Needs PostgreSQL and Redis running (``.ci/run`` shows how to start
them); ``DATABASE_URL`` names a role that may create databases (the bench uses its own database,
``lanebridge_bench``) and ``CELERY_BROKER_URL`` the Redis (the bench uses database 15 of it).

Both setups run the processes `manage.py serve` runs (gunicorn with lanebridge/gunicorn.py; Celery
workers), with the in-process stand-in ERP/CRM operations of bench/engine_throughput.py loaded into
each process. `--clients` threads each loop: start an instance (``POST /api/v1/processes/…/instances/``,
the start latency), then drive it to its end over the API — complete the approval, wait for the
service calls, send the ERP's messages (production done, delivered, paid) as the ERP watcher would,
complete the follow-up, wait for the last call — as a person, the ERP and a CRM would.
Completed instances/s is the number completed over the wall time of the whole run.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.engine_throughput import ANSWERS, PROCESS_FILE, PROCESS_ID, stand_in_process, start_variables  # noqa: E402

SKIP_TASKS = {"Task_EscalatedApproval"}  # opened by a timer only when an approval is late

PREPARE = """
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from accounts.tokens import create_token
from engine.deploy import deploy
from processes.roles import DEMO_LANE_ROLES, ensure_roles
call_command("migrate", verbosity=0)
ensure_roles()
for name in DEMO_LANE_ROLES:
    Group.objects.get_or_create(name=name)
user = User.objects.create_user("bench", password="bench")
user.groups.add(*Group.objects.filter(name__in=["Analyst", *DEMO_LANE_ROLES]))
deploy(open({process!r}, "rb").read(), "quote_to_cash.bpmn")
print("TOKEN", create_token(user, "bench")[1])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_database(admin_url: str) -> str:
    """Create the bench's own PostgreSQL database afresh; return its URL."""
    import psycopg2

    parts = urlsplit(admin_url)
    db = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    db.autocommit = True
    with db.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS lanebridge_bench WITH (FORCE)")
        cursor.execute("CREATE DATABASE lanebridge_bench")
    db.close()
    return urlunsplit(parts._replace(path="/lanebridge_bench"))


def rss_mb(pids: list[int]) -> list[float]:
    sizes = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        sizes.append(kb / 1024)
    return sizes


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


class Setup:
    """One installation: its database, its gunicorn and (scaled) its Celery workers."""

    def __init__(self, name: str, env: dict[str, str], workers: int, pool: str, process_file: Path):
        from lanebridge.supervisor import Supervisor, commands

        self.name = name
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**env, "LANEBRIDGE_WEB_BIND": f"127.0.0.1:{port}",
               "LANEBRIDGE_CONNECTOR_MODULES": "bench.stand_in_connectors", "LOG_LEVEL": "ERROR"}
        prepared = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "shell", "-v0", "-c", PREPARE.format(process=str(process_file))],
            env=env, cwd=ROOT, capture_output=True, text=True, check=True)
        self.token = prepared.stdout.split("TOKEN")[-1].strip()
        scaled = "CELERY_BROKER_URL" in env
        children = {"web": commands(scaled=scaled)["web"]}
        if scaled:
            children["worker"] = [*commands(scaled=True)["worker"], f"--concurrency={workers}",
                                  f"--pool={pool}", "--loglevel=WARNING"]
        self.supervisor = Supervisor(children, lambda message: print(f"  {name}: {message}", file=sys.stderr),
                                     env=env, cwd=str(ROOT))
        self.supervisor.start()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {self.token}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(self.url + "/accounts/login/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{name}: gunicorn did not answer within 120 s")
            time.sleep(0.3)

    def pids(self, child: str) -> list[int]:
        process = next(c.process for c in self.supervisor.children if c.name == child)
        return [process.pid, *children_of(process.pid)]

    def stop(self) -> None:
        self.supervisor.stop()


# The demo's waits for the ERP, in the order it reaches them.
ERP_MESSAGES = ("production_done", "shipment_delivered", "invoice_paid")


def drive(setup: Setup, i: int, session: requests.Session) -> float:
    """Start instance `i` and take it to its end over the API; returns the start's latency in seconds."""
    started = time.perf_counter()
    answer = session.post(f"{setup.url}/api/v1/processes/{PROCESS_ID}/instances/", timeout=120,
                          json={"business_key": f"Q-{i}", "variables": start_variables(i)})
    latency = time.perf_counter() - started
    if answer.status_code != 201:
        raise RuntimeError(f"start answered {answer.status_code}: {answer.text[:300]}")
    instance = answer.json()
    deadline = time.monotonic() + 120
    while instance["state"] == "active":
        tasks = [t for t in instance["tasks"] if t["element_id"] not in SKIP_TASKS]
        if tasks:
            task = tasks[0]
            answer = session.post(f"{setup.url}/api/v1/tasks/{task['id']}/complete/", timeout=120,
                                  json={"data": ANSWERS.get(task["element_id"], {})})
            if answer.status_code != 200:
                raise RuntimeError(f"completing {task['element_id']} answered {answer.status_code}: {answer.text}")
        else:
            # The ERP's news, as the watcher sends it; a 404 means the instance does not wait for it (yet).
            for name in ERP_MESSAGES:
                sent = session.post(f"{setup.url}/api/v1/messages/", timeout=120,
                                    json={"name": name, "business_key": f"Q-{i}"})
                if sent.status_code == 200:
                    break
            else:
                # The service calls run in a worker: look again shortly.
                time.sleep(0.02)
            answer = session.get(f"{setup.url}/api/v1/instances/{instance['id']}/", timeout=120)
        instance = answer.json()
        if time.monotonic() > deadline:
            raise RuntimeError(f"instance {instance['id']} still {instance['state']} after 120 s")
    if instance["state"] != "completed":
        raise RuntimeError(f"instance {instance['id']} ended {instance['state']}: {instance.get('error')}")
    return latency


def measure(setup: Setup, first: int, count: int, clients: int) -> tuple[float, list[float]]:
    """Run `count` instances with `clients` concurrent clients; returns (completed per second, start latencies)."""
    numbers = iter(range(first, first + count))
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []

    def client() -> None:
        session = requests.Session()
        session.headers.update(setup.session.headers)
        while True:
            with lock:
                i = next(numbers, None)
            if i is None:
                return
            try:
                latencies.append(drive(setup, i, session))
            except Exception as exc:  # noqa: BLE001 - count it and go on; reported below
                failures.append(str(exc))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        print(f"  {setup.name}: {len(failures)} instance(s) failed, first: {failures[0]}", file=sys.stderr)
    return len(latencies) / elapsed, latencies


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (prefork pool)")
    parser.add_argument("--pool", default="prefork", help="Celery's pool: prefork (as deployed), threads, solo")
    args = parser.parse_args()

    admin_url = os.environ.get("DATABASE_URL", "postgres://lanebridge:lanebridge@127.0.0.1:5432/lanebridge")
    broker = urlunsplit(urlsplit(os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"))._replace(path="/15"))
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "SQLITE_PATH")}
    base["PYTHONPATH"] = str(ROOT)
    results = {}
    with tempfile.TemporaryDirectory(prefix="lanebridge-scaled-bench-") as tmp:
        process_file = PROCESS_FILE
        if not process_file.exists():
            process_file = Path(tmp) / "quote_to_cash.bpmn"
            process_file.write_bytes(stand_in_process())
        import redis

        redis.Redis.from_url(broker).flushdb()
        plans = [
            ("embedded", {**base, "LANEBRIDGE_VAR": f"{tmp}/embedded"}),
            ("scaled", {**base, "LANEBRIDGE_VAR": f"{tmp}/scaled", "DATABASE_URL": bench_database(admin_url),
                        "CELERY_BROKER_URL": broker}),
        ]
        for name, env in plans:
            print(f"  {name}: starting", file=sys.stderr)
            setup = Setup(name, env, args.workers, args.pool, process_file)
            try:
                measure(setup, -20, 10, min(args.clients, 5))  # warm every process's caches
                rate, latencies = measure(setup, 0, args.instances, args.clients)
                web = rss_mb(setup.pids("web")[1:])
                worker = rss_mb(setup.pids("worker")) if name == "scaled" else []
            finally:
                setup.stop()
            results[name] = (rate, latencies, web, worker)

    from lanebridge import gunicorn as web_config

    print(f"instances: {args.instances}, concurrent clients: {args.clients}, "
          f"gunicorn: {web_config.workers} processes × {web_config.threads} threads, cores: {os.cpu_count()}")
    for name, label in [("embedded", "embedded (SQLite, calls in the web processes)"),
                        ("scaled", f"scaled (PostgreSQL + Redis + {args.workers} Celery worker processes)")]:
        rate, latencies, web, worker = results[name]
        ms = [x * 1000 for x in latencies]
        line = (f"{label:60} {rate:6.1f} completed inst/s; start p50 {percentile(ms, 50):6.1f} ms, "
                f"p95 {percentile(ms, 95):6.1f} ms; web RSS {max(web, default=0):.0f} MB/process")
        if worker:
            line += f"; worker RSS main {worker[0]:.0f} MB, pool {max(worker[1:], default=0):.0f} MB/process"
        print(line)


if __name__ == "__main__":
    main()

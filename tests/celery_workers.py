"""Real Celery worker processes for the scaled suite, on the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from lanebridge.celery import app


def database_url() -> str:
    """The URL of the test database this test process uses, for the workers."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def require_scaled_setup() -> None:
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL:
        pytest.fail("the scaled suite needs DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://…")


def start_workers(count: int, name: str = "test", pool: str = "threads", **env: str) -> list[subprocess.Popen]:
    """Start `count` `celery -A lanebridge worker` processes and wait until they answer a ping."""
    require_scaled_setup()
    already = len(app.control.ping(timeout=0.5) or [])
    environment = dict(os.environ, DATABASE_URL=database_url(), **env)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "lanebridge", "worker", f"--pool={pool}", "--concurrency=2",
             "-n", f"{name}{i}@%h", "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
            env=environment, cwd=settings.BASE_DIR,
        )
        for i in range(count)
    ]
    deadline = time.monotonic() + 60
    while len(app.control.ping(timeout=1) or []) < already + count:
        if time.monotonic() > deadline:
            stop_workers(procs)
            pytest.fail("Celery workers did not start within 60 s")
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    """Stop worker processes that are still running."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for(predicate, timeout: float = 60.0) -> bool:
    """Wait for a worker process to finish something: it runs outside this test's control."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True

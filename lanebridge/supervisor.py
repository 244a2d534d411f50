"""Keep Lanebridge's processes running: restart one that dies, stop them all together.

Each child runs in its own process group, so stopping a child also stops what it
started (gunicorn's and Celery's worker processes), and a Ctrl-C in the terminal
reaches the supervisor only, which then stops the children in order.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

# A child that ran this long before dying is restarted at once; quicker deaths wait longer each time.
STABLE_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 30.0

_PR_SET_PDEATHSIG = 1


# Children the others call: they stop after the rest.
CALLED = {"erp"}


def commands(*, erp: bool = False, scaled: bool | None = None) -> dict[str, list[str]]:
    """The processes of one Lanebridge machine and the command of each (the container image runs the same)."""
    scaled = (not settings.CELERY_TASK_ALWAYS_EAGER) if scaled is None else scaled
    python = sys.executable
    manage = [python, str(settings.BASE_DIR / "manage.py")]
    celery = [python, "-m", "celery", "-A", "lanebridge"]
    children = {"web": [python, "-m", "gunicorn", "--config", "python:lanebridge.gunicorn"]}
    if scaled:
        children["worker"] = [*celery, "worker", "--loglevel=INFO"]
        children["beat"] = [*celery, "beat", "--loglevel=INFO"]
    else:
        children["scheduler"] = [*manage, "run_scheduler"]
    if erp:
        children["erp"] = [*manage, "erp_server"]
    return children


def _die_with_parent() -> None:
    # Linux: the child gets SIGTERM if the supervisor is killed outright, so no server is left running.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    """Start children, restart the ones that die (with backoff), stop them all."""

    def __init__(self, children: dict[str, list[str]], report: Callable[[str], None], *,
                 env: dict[str, str] | None = None, cwd: str | None = None):
        self.children = [Child(name, argv) for name, argv in children.items()]
        self.report = report
        self.env = env
        self.cwd = cwd
        self.stopping = False

    def start(self) -> None:
        """Start every child."""
        for child in self.children:
            self._spawn(child)

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(child.argv, env=self.env, cwd=self.cwd,
                                         start_new_session=True, preexec_fn=_die_with_parent)
        child.started_at, child.restart_at = time.monotonic(), None

    def check(self, now: float | None = None) -> None:
        """Notice children that died and restart those whose backoff has passed."""
        now = time.monotonic() if now is None else now
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at and not self.stopping:
                    self._spawn(child)
                    child.restarts += 1
                    self.report(f"{child.name} restarted (pid {child.process.pid})")
                continue
            code = child.process.poll()
            if code is None or self.stopping:
                continue
            _kill_group(child.process.pid, signal.SIGKILL)  # what it started dies with it
            ran = now - child.started_at
            child.quick_deaths = 0 if ran >= STABLE_SECONDS else child.quick_deaths + 1
            delay = 0.0 if not child.quick_deaths else min(MAX_BACKOFF_SECONDS, 2.0 ** (child.quick_deaths - 1))
            child.restart_at = now + delay
            self.report(f"{child.name} (pid {child.process.pid}) exited with {_describe(code)} "
                        f"after {ran:.0f} s; restarting in {delay:.0f} s")

    def run(self, poll_seconds: float = 0.5) -> None:
        """Supervise until `stop_soon()` is called (e.g. by a signal handler)."""
        while not self.stopping:
            self.check()
            time.sleep(poll_seconds)

    def stop_soon(self, *_) -> None:
        """Ask `run()` to return; the caller then calls `stop()`."""
        self.stopping = True

    def stop(self, timeout: float = 25.0) -> None:
        """Stop every child and everything it started: SIGTERM, then SIGKILL after `timeout`.

        The servers the others call (the local ERP) stop last, so a scheduler pass
        finishing its work never meets an ERP already gone.
        """
        self.stopping = True
        callers = [c for c in self.children if c.name not in CALLED]
        for wave in (callers, [c for c in self.children if c.name in CALLED]):
            self._stop_wave([c.process for c in wave if c.process is not None], timeout)

    def _stop_wave(self, running: list, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for process in reversed(running):
            if process.poll() is None:
                _kill_group(process.pid, signal.SIGTERM)
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.report(f"pid {process.pid} did not stop within {timeout:.0f} s: killed")
        for process in running:
            # Also reaches a grandchild whose parent already left.
            _kill_group(process.pid, signal.SIGKILL)
            process.wait()


def _kill_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"

"""A small pool of script worker processes, each run with resource limits and a wall-clock deadline.

A script runs in a worker (``engine.sandbox_worker``), not in the server (only
expressions that merely read and compare variables do, see ``engine.scripts``): a
computation in C (``9 ** (9 ** 9)``, ``sum(range(10 ** 12))``) cannot be
interrupted from Python, but its process can be killed. The parent waits for
each answer until LANEBRIDGE_SCRIPT_TIMEOUT, then kills the worker and the next
script gets a fresh one. Workers are reused (compiled code is cached in them),
so isolation costs a pipe round trip per script, not a process start.

Workers are started with ``subprocess`` (fork + exec of a fresh interpreter, done
in C) rather than ``multiprocessing``: nothing of a threaded gunicorn worker or
a Celery prefork child (locks held by other threads, database connections,
settings with secrets) is copied into them, no ``__main__`` is re-imported,
and the protocol is JSON on pipes rather than pickle, so a worker cannot hand the
server an object to unpickle. A process that forks after starting workers
(Celery prefork) forgets them in the child, which starts its own.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings

from engine.sandbox_worker import HEADER, read_frame, write_frame

ROOT = Path(__file__).resolve().parents[1]
# A fresh interpreter importing RestrictedPython; generous for a busy machine.
STARTUP_SECONDS = 30
# Room for the JSON around the values in an answer.
ANSWER_SLACK = 64 * 1024


class ScriptTimeout(Exception):
    """A script ran longer than LANEBRIDGE_SCRIPT_TIMEOUT."""


class ScriptLimitExceeded(Exception):
    """A script used more memory than allowed, or made a value or variables larger than allowed."""


class ScriptWorkerFailed(Exception):
    """A script worker could not be started or stopped without answering."""


def _limits() -> dict:
    config = settings.LANEBRIDGE
    return {
        "timeout": config["SCRIPT_TIMEOUT_SECONDS"],
        "max_value": config["MAX_VALUE_BYTES"],
        "max_total": config["MAX_INSTANCE_BYTES"],
    }


class Worker:
    """One worker process and the pipes to it."""

    def __init__(self, memory_bytes: int):
        self.memory_bytes = memory_bytes
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.sandbox_worker", str(memory_bytes)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, close_fds=True,
            # No secrets (SECRET_KEY, DATABASE_URL...) in an environment a script might one day read.
            env={"PATH": os.defpath, "PYTHONPATH": str(ROOT)},
        )
        self.requests = self.process.stdin.fileno()
        self.answers = self.process.stdout.fileno()
        self.poller = select.poll()  # not select(): a busy server's descriptors go past 1024
        self.poller.register(self.answers, select.POLLIN | select.POLLHUP | select.POLLERR)
        if self._wait_for_answer(time.monotonic() + STARTUP_SECONDS) is None or read_frame(self.answers) is None:
            self.kill()
            raise ScriptWorkerFailed(f"the script worker did not start ({self._how_it_ended()})")

    def ask(self, request: dict, limits: dict) -> dict:
        """Send one request and return the answer; kill the worker and raise if it takes too long."""
        payload = json.dumps(request, default=str).encode()
        deadline = time.monotonic() + limits["timeout"]
        try:
            write_frame(self.requests, payload)
        except BrokenPipeError:
            self.kill()
            raise ScriptWorkerFailed(f"the script worker stopped ({self._how_it_ended()})") from None
        ready = self._wait_for_answer(deadline)
        if ready is None:
            self.kill()
            raise ScriptTimeout(f"script ran longer than {limits['timeout']} s")
        header = self._read(HEADER.size)
        if not header:
            self.kill()
            if self.process.returncode == -signal.SIGXCPU:
                raise ScriptTimeout(f"script ran longer than {limits['timeout']} s")
            raise ScriptWorkerFailed(f"the script worker stopped ({self._how_it_ended()})")
        size = HEADER.unpack(header)[0]
        if size > limits["max_total"] + ANSWER_SLACK:
            self.kill()
            raise ScriptLimitExceeded(f"the script's answer is {size} bytes, more than the limit of "
                                      f"{limits['max_total']} bytes per instance (LANEBRIDGE_MAX_INSTANCE_BYTES)")
        body = self._read(size)
        if body is None:
            self.kill()
            raise ScriptWorkerFailed(f"the script worker stopped ({self._how_it_ended()})")
        return json.loads(body)

    def _wait_for_answer(self, deadline: float) -> bool | None:
        """True once the worker has written something (or closed its end), None at the deadline."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if self.poller.poll(max(1, int(left * 1000))):
                return True

    def _read(self, size: int) -> bytes | None:
        chunks, left = [], size
        while left:
            chunk = os.read(self.answers, min(left, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _how_it_ended(self) -> str:
        code = self.process.returncode
        if code is not None and code < 0:
            return f"signal {signal.Signals(-code).name}"
        return f"exit status {code}"

    def kill(self) -> None:
        """Stop the worker now and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.close()

    def close(self) -> None:
        """Close this side's pipes; an idle worker then exits on its own."""
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass


class Pool:
    """Up to LANEBRIDGE_SCRIPT_WORKERS workers, each running one script at a time."""

    def __init__(self):
        self._changed = threading.Condition()
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()  # idle or busy
        self._starting = 0

    def run(self, request: dict) -> dict:
        """Run `request` in a worker and return its answer (see ``engine.sandbox_worker``)."""
        limits = _limits()
        request = {**request, **limits}
        worker = self._take()
        keep = False
        try:
            answer = worker.ask(request, limits)
            # A worker that hit its memory limit stops after answering.
            keep = answer.get("limit") != "memory"
            return answer
        finally:
            self._give_back(worker, keep)

    def _take(self) -> Worker:
        memory = settings.LANEBRIDGE["SCRIPT_MEMORY_MB"] * 1024 * 1024
        with self._changed:
            while True:
                # Started under another memory setting (tests change it): replaced.
                for worker in [w for w in self._idle if w.memory_bytes != memory]:
                    self._idle.remove(worker)
                    self._stop(worker)
                if self._idle:
                    return self._idle.pop()
                if self._starting + len(self._all) < settings.LANEBRIDGE["SCRIPT_WORKERS"]:
                    self._starting += 1
                    break
                self._changed.wait()
        worker = None
        try:
            worker = Worker(memory)
            return worker
        finally:
            with self._changed:
                self._starting -= 1
                if worker is not None:
                    self._all.add(worker)
                self._changed.notify()

    def _give_back(self, worker: Worker, keep: bool) -> None:
        with self._changed:
            if keep and worker.process.poll() is None and len(self._all) <= settings.LANEBRIDGE["SCRIPT_WORKERS"]:
                self._idle.append(worker)
            else:
                self._stop(worker)
            self._changed.notify()

    def _stop(self, worker: Worker) -> None:
        self._all.discard(worker)
        worker.kill()

    def busy(self) -> int:
        """How many workers are running a script now."""
        with self._changed:
            return len(self._all) - len(self._idle)

    def pids(self) -> set[int]:
        """The process ids of this pool's workers."""
        with self._changed:
            return {worker.process.pid for worker in self._all}

    def close(self) -> None:
        """Stop the idle workers (at exit; busy ones stop when their script ends)."""
        # A daemon thread may be inside run() at exit: never wait on it for long.
        if not self._changed.acquire(timeout=5):
            return
        try:
            while self._idle:
                self._stop(self._idle.pop())
        finally:
            self._changed.release()

    def forget(self) -> None:
        """In a forked child: drop the parent's workers without touching them, keeping none of their pipes."""
        for worker in self._all:
            worker.close()
        self._idle, self._all, self._starting = [], set(), 0
        self._changed = threading.Condition()


POOL = Pool()
atexit.register(POOL.close)
os.register_at_fork(after_in_child=POOL.forget)

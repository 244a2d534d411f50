"""Stopping serve: the children that call the ERP stop before it, so their last pass never finds it gone."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from lanebridge.supervisor import Supervisor

# A child that says when it is ready, and on SIGTERM takes `linger` seconds to finish before saying it stopped.
CHILD = """
import signal, sys, time
name, log, linger = sys.argv[1], sys.argv[2], float(sys.argv[3])
def stop(*_):
    time.sleep(linger)
    open(log, "a").write(name + " stopped\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
open(log, "a").write(name + " ready\\n")
while True:
    time.sleep(0.1)
"""


def lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_the_erp_stops_after_the_scheduler_and_web_have_finished(tmp_path):
    log = tmp_path / "order.log"
    child = [sys.executable, "-c", CHILD]
    children = {"web": [*child, "web", str(log), "0.3"], "scheduler": [*child, "scheduler", str(log), "0.6"],
                "erp": [*child, "erp", str(log), "0"]}
    supervisor = Supervisor(children, report=lambda message: None)
    supervisor.start()
    deadline = time.monotonic() + 30
    while sum(line.endswith("ready") for line in lines(log)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)

    supervisor.stop(timeout=20)

    stopped = [line.split()[0] for line in lines(log) if line.endswith("stopped")]
    # The ERP was told last, though it stops at once and the others take their time.
    assert sorted(stopped[:2]) == ["scheduler", "web"] and stopped[2] == "erp"
    assert all(c.process.poll() is not None for c in supervisor.children)

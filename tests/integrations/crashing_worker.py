"""Loaded into a real Celery worker by the crash test (LANEBRIDGE_CONNECTOR_MODULES).

The worker process kills itself right after the ERP created the sales order,
before Lanebridge could record it: the moment a hand-off is most easily doubled.
"""

import os
import signal
from pathlib import Path

from engine import connectors

real = connectors.get_operation("erp.create_sales_order")


def create_then_die(call: connectors.Call) -> dict:
    output = real.func(call)
    marker = Path(os.environ["LANEBRIDGE_CRASH_MARKER"])
    if marker.exists():
        marker.unlink()
        os.kill(os.getpid(), signal.SIGKILL)
    return output


connectors.register("erp.create_sales_order", create_then_die, required=real.required, ledger=real.ledger)

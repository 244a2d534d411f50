"""Loaded into a served Lanebridge by the serve tests (LANEBRIDGE_CONNECTOR_MODULES).

`test.hang_once` never answers its first call, as an ERP that hangs while the server is killed,
and answers every later one.
"""

import time

from django.conf import settings

from engine import connectors


@connectors.register("test.hang_once")
def hang_once(call: connectors.Call) -> dict:
    """Hang on the first call of this installation; answer the next ones."""
    marker = settings.VAR_DIR / "hung-once"
    if not marker.exists():
        marker.touch()
        time.sleep(600)
    return {"answered": True}

"""History events and the JSON-safe copies of task data they (and every row beside an instance) hold."""

from __future__ import annotations

import json
import math
from typing import Any

from engine import rows
from engine.models import HistoryEvent, ProcessInstance


def record_event(instance: ProcessInstance, kind: str, element_id: str = "", element_name: str = "",
                 user=None, data: dict | None = None) -> HistoryEvent:
    """Append one history event to an instance."""
    event = history_event(instance, kind, element_id, element_name, user, data)
    rows.insert([event])
    return event


def history_event(instance: ProcessInstance, kind: str, element_id: str = "", element_name: str = "",
                  user=None, data: dict | None = None) -> HistoryEvent:
    """A history event not saved yet, for writing several in one statement (`rows.insert`)."""
    return HistoryEvent(
        instance=instance, kind=kind, element_id=element_id or "", element_name=element_name or "",
        user=user if user is not None and getattr(user, "is_authenticated", False) else None,
        data=to_json(data or {}),
    )


def to_json(value: Any) -> Any:
    """A JSON-safe copy of task data (dates, decimals and infinite numbers become strings)."""
    try:
        # Plain data, the usual case, is copied without the round trip through text.
        return _copy_plain(value)
    except TypeError:
        pass
    try:
        return json.loads(json.dumps(value, default=str, allow_nan=False))
    except ValueError:
        # A script computed inf or nan: no database column stores it as JSON.
        return json.loads(json.dumps(_finite(value), default=str))


def _copy_plain(value: Any) -> Any:
    # Raises TypeError for anything JSON would write differently from what it holds.
    if isinstance(value, str) or value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise TypeError("not a finite number")
    if isinstance(value, dict):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("key is not text")
            plain[key] = _copy_plain(item)
        return plain
    if isinstance(value, list):
        return [_copy_plain(item) for item in value]
    raise TypeError(type(value).__name__)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value

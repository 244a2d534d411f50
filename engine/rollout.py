"""Gradual rollout: a share of new instances of a process starts on a new version, the rest on the previous one.

The share is chosen per business key by a hash, so the same key always gets
the same version; without a rollout the latest version starts.
"""

from __future__ import annotations

import hashlib
import random

from django.db import transaction

from engine import signals
from engine.models import ProcessDefinition, Rollout


class RolloutError(ValueError):
    """A rollout that cannot be set: the message names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def set_rollout(process_id: str, version: int, percent: int, user=None, reason: str = "") -> Rollout:
    """Start `percent` % of new instances on `version` and the rest on the default before it; 100 promotes it."""
    if not 0 <= percent <= 100:
        raise RolloutError("percent", f"percent must be between 0 and 100, not {percent}")
    versions = set(ProcessDefinition.objects.filter(process_id=process_id).values_list("version", flat=True))
    if not versions:
        raise RolloutError("process_id", f"No process with id {process_id!r} is deployed")
    if version not in versions:
        raise RolloutError("version", f"Process {process_id!r} has no version {version}; "
                                      f"it has {', '.join(str(v) for v in sorted(versions))}")
    with transaction.atomic():
        current = Rollout.objects.select_for_update().filter(process_id=process_id).first()
        if current is not None:
            default = current.default_version
        else:
            # No rollout yet: the latest version below this one was the default.
            default = max((v for v in versions if v < version), default=version)
        if percent == 100:
            default = version
        rollout = current or Rollout(process_id=process_id)
        rollout.default_version, rollout.version, rollout.percent = default, version, percent
        rollout.reason, rollout.updated_by = reason, user if getattr(user, "is_authenticated", False) else None
        rollout.save()
        signals.operator_action.send(sender=Rollout, user=user, action="rollout", object=f"process {process_id}",
                                     detail=f"{percent}% on v{version}, else v{default}. {reason}".strip())
    return rollout


def chosen_version(process_id: str, business_key: str = "") -> int | None:
    """The version a new instance with this business key starts on; None: no rollout, the latest."""
    rollout = Rollout.objects.filter(process_id=process_id).values_list("default_version", "version", "percent").first()
    if rollout is None:
        return None
    default, version, percent = rollout
    return version if bucket(process_id, business_key) < percent else default


def bucket(process_id: str, business_key: str) -> int:
    """0..99, the same for the same business key; random for an instance without one."""
    if not business_key:
        return random.randrange(100)  # noqa: S311 - a traffic split, not a secret
    digest = hashlib.sha256(f"{process_id}\n{business_key}".encode("utf-8", "backslashreplace")).digest()
    return int.from_bytes(digest[:8], "big") % 100

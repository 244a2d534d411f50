"""How long history is kept: ended instances older than a cut are archived as JSON lines, then deleted.

Batches are small and each is deleted in its own short transaction, so no lock
is held for long; an instance is written to the archive (and the file flushed)
before the transaction that deletes it. Running instances are never touched.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from engine import signals
from engine.models import ProcessInstance

log = logging.getLogger(__name__)

ENDED = (ProcessInstance.COMPLETED, ProcessInstance.CANCELLED, ProcessInstance.FAILED)
BATCH_SIZE = 50


def purge_history(ended_before: datetime, archive: IO[str] | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Delete the instances that ended before `ended_before`, with all their rows; returns how many went.

    1. take the next few ended instances past the last one seen;
    2. write each as one JSON line to `archive` and flush it to disk;
    3. delete them (checked again: ended, and before the cut) in one short transaction.
    """
    purged, after = 0, 0
    while True:
        ids = list(_ended(ended_before).filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return purged
        after = ids[-1]
        if archive is not None:
            for line in archive_lines(ids):
                archive.write(line + "\n")
            archive.flush()
            if hasattr(archive, "fileno"):
                os.fsync(archive.fileno())
        with transaction.atomic():
            _total, per_model = _ended(ended_before).filter(pk__in=ids).delete()
        purged += per_model.get(ProcessInstance._meta.label, 0)


def _ended(ended_before: datetime):
    return ProcessInstance.objects.filter(state__in=ENDED, ended_at__lt=ended_before)


def archive_lines(instance_ids: list[int]) -> list[str]:
    """One JSON line per instance: what it was, its variables, its history and what other apps add (ledger numbers)."""
    extras: dict = {}
    for _receiver, answer in signals.instances_archiving.send(sender=ProcessInstance, instance_ids=instance_ids):
        for instance_id, sections in (answer or {}).items():
            extras.setdefault(instance_id, {}).update(sections)
    instances = ProcessInstance.objects.filter(pk__in=instance_ids).select_related("definition").prefetch_related(
        "history__user").order_by("pk")
    lines = []
    for instance in instances:
        record = {
            "id": instance.pk, "process_id": instance.definition.process_id, "version": instance.definition.version,
            "business_key": instance.business_key, "state": instance.state, "outcome": instance.outcome,
            "error": instance.error, "started_at": instance.started_at.isoformat(),
            "ended_at": instance.ended_at.isoformat() if instance.ended_at else None,
            "variables": instance.variables,
            "history": [{"kind": e.kind, "element_id": e.element_id, "element_name": e.element_name,
                         "user": e.user.get_username() if e.user else None, "data": e.data, "at": e.at.isoformat()}
                        for e in sorted(instance.history.all(), key=lambda e: e.pk)],
            **extras.get(instance.pk, {}),
        }
        lines.append(json.dumps(record, ensure_ascii=False, default=str))
    return lines


def purge_expired(now: datetime | None = None) -> int:
    """The scheduler's daily pass: purge what ended more than LANEBRIDGE_HISTORY_DAYS ago; 0 when unset."""
    days = settings.LANEBRIDGE_HISTORY_DAYS
    if not days:
        return 0
    now = now or timezone.now()
    path = settings.LANEBRIDGE_HISTORY_ARCHIVE
    if not path:
        purged = purge_history(now - timedelta(days=days))
    else:
        # One archive file per day of purging, beside the others.
        path = now.strftime(path)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "a", encoding="utf-8") as archive:
            purged = purge_history(now - timedelta(days=days), archive)
    if purged:
        log.info("purged %d instances that ended more than %d days ago", purged, days)
    return purged


class Daily:
    """Whether a once-a-day job is due, by the clock the caller passes (the scheduler's, or a test's)."""

    def __init__(self):
        self.last: datetime | None = None

    def due(self, now: datetime) -> bool:
        """True at the first call and once a day after the last call that was due."""
        if self.last is not None and now - self.last < timedelta(days=1):
            return False
        self.last = now
        return True

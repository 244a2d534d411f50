"""Instances and their workflows kept in memory between writes, so a write need not deserialize.

Only `engine.runtime` writes here; see `LiveWorkflows` for why a kept copy is safe to use.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict

from django.db import transaction

from engine.models import ProcessInstance


class LiveWorkflows:
    """Instances and their workflows kept in memory after a committed write, by instance id.

    A write that finds its instance here skips deserializing the state. The
    version saved with each entry keeps it safe across processes, and an entry
    is taken out while in use and only put back after its transaction commits,
    so a rolled-back change never leaks into a later write.
    """

    def __init__(self, size: int = 256):
        self.size = size
        self.entries: OrderedDict[int, tuple[ProcessInstance, object, frozenset]] = OrderedDict()
        # Instances that ended here, without their workflows: only `latest()` reads them.
        self.ended: OrderedDict[int, ProcessInstance] = OrderedDict()
        self.lock = threading.Lock()

    def take(self, instance_id: int) -> tuple[ProcessInstance, object, frozenset] | None:
        """The kept (instance, workflow, ids of its tasks that have rows), taken out; None if absent."""
        with self.lock:
            return self.entries.pop(instance_id, None)

    def latest(self, instance_id: int) -> ProcessInstance | None:
        """A copy of the instance as the last write in this process saved it; None if none is kept."""
        with self.lock:
            kept = self.entries.get(instance_id)
            saved = kept[0] if kept is not None else self.ended.get(instance_id)
        return copy.copy(saved) if saved is not None else None

    def keep_after_commit(self, instance: ProcessInstance, workflow, state: dict) -> None:
        """Keep the workflow once the transaction commits, with a copy of the instance as saved."""

        def keep():
            # Copied when the commit happened: advance() has bumped the version by then.
            saved = copy.copy(instance)
            with self.lock:
                if saved.state not in ProcessInstance.RUNNING:
                    # Ended: nothing will write to it again, so its workflow would only take memory.
                    self.entries.pop(saved.pk, None)
                    self.ended[saved.pk] = saved
                    while len(self.ended) > self.size // 4:
                        self.ended.popitem(last=False)
                    return
                kept = self.entries.get(saved.pk)
                if kept is not None and kept[0].version > saved.version:
                    return
                self.entries[saved.pk] = (saved, workflow, state["with_rows"])
                self.entries.move_to_end(saved.pk)
                while len(self.entries) > self.size:
                    self.entries.popitem(last=False)

        transaction.on_commit(keep)


workflows = LiveWorkflows()


def forget() -> None:
    """Drop every kept workflow: needed when the database is replaced under a running process (restore, tests)."""
    with workflows.lock:
        workflows.entries.clear()
        workflows.ended.clear()

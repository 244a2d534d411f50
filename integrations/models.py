"""What integrations persist: the cross-system id ledger, the event watcher's cursors and the changes it saw."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from engine.models import Job, ProcessInstance


class ExternalId(models.Model):
    """One id of another system (or a business key) that an instance touched.

    `value_normalized` is the value upper-cased and stripped: search compares
    against it so that `so-1042` finds `SO-1042` through a plain index.
    """

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="external_ids")
    # The system and the kind of record: "erp.sale", "crm.opportunity", "business_key".
    kind = models.CharField(max_length=64)
    value = models.CharField(max_length=255)
    value_normalized = models.CharField(max_length=255, db_index=True)
    # The call that returned the id; empty for ids known when the instance started.
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instance", "kind", "value"], name="unique_external_id"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.value} (instance {self.instance_id})"


class PollCursor(models.Model):
    """How far one watch of the event watcher got: the last record handled (its id, and its change time)."""

    name = models.CharField(max_length=100, unique=True)
    position = models.BigIntegerField(null=True, blank=True)
    # The change time ("write_date") of the last record handled, as the other system wrote it (ISO 8601);
    # empty for watches that follow ids only.
    changed_at = models.CharField(max_length=64, blank=True)
    # A watch that began "from now": the change time of the newest record then. Records changed at or
    # before it were there before the watch and are never handled, even when a pass reads back over them.
    began_at = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"


class ErpChange(models.Model):
    """One change the event watcher saw in the ERP or CRM, and what became of it (the operators' record).

    Written in the same transaction as the delivery, so a change is listed
    exactly when it was delivered, started an instance or was buffered.
    """

    DELIVERED, STARTED, BUFFERED, SKIPPED, UNMATCHED = "delivered", "started", "buffered", "skipped", "unmatched"
    OUTCOMES = [(DELIVERED, DELIVERED), (STARTED, STARTED), (BUFFERED, BUFFERED), (SKIPPED, SKIPPED),
                (UNMATCHED, UNMATCHED)]

    watch = models.CharField(max_length=100)
    model = models.CharField(max_length=100)
    record_id = models.BigIntegerField()
    # The record's number in its system (SO-12, MO-3…), the one correlated through the ledger.
    number = models.CharField(max_length=255, blank=True)
    message = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=16, choices=OUTCOMES)
    # The instances it reached or started, or the buffered message's id; why when unmatched.
    instances = models.JSONField(default=list, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["watch", "record_id"], name="unique_erp_change")]
        indexes = [models.Index(fields=["outcome", "seen_at"])]
        ordering = ["-id"]
        verbose_name = "ERP change"

    def __str__(self) -> str:
        return f"{self.watch} {self.number or self.record_id}: {self.outcome}"

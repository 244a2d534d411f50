"""What integrations persist: the cross-system id ledger and the inbound pollers' cursors."""

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
    """How far an inbound poller got: the highest record id it has handled."""

    name = models.CharField(max_length=100, unique=True)
    position = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"

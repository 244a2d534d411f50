"""What monitoring persists: the alerts it sent, one row per process, element, kind and window."""

from __future__ import annotations

from django.db import models


class Alert(models.Model):
    """One alert: a kind of problem at one element of one process, counted within its window.

    Problems of the same kind at the same place within the window add to `count` of one
    row and go out once, so a storm of failures is one message with a count.
    """

    INCIDENT, OVERDUE, STUCK, ERROR_RATE = "incident", "overdue", "stuck", "error_rate"
    KINDS = [(INCIDENT, "incident opened"), (OVERDUE, "task overdue"), (STUCK, "instance without progress"),
             (ERROR_RATE, "error rate above threshold")]

    kind = models.CharField(max_length=16, choices=KINDS)
    process_id = models.CharField(max_length=255)
    element_id = models.CharField(max_length=255, blank=True)
    element_name = models.CharField(max_length=255, blank=True)
    count = models.PositiveIntegerField(default=0)
    # Ids of the instances concerned (the first ones), for the links in the message.
    instance_ids = models.JSONField(default=list, blank=True)
    detail = models.TextField(blank=True)
    window_start = models.DateTimeField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    # Set once the message went out; an alert found again in its window is not sent twice.
    sent_at = models.DateTimeField(null=True, blank=True)
    channels = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "process_id", "element_id", "window_start"],
                                               name="one_alert_per_window")]
        ordering = ["-last_at"]
        permissions = [("view_reports", "Can see the monitor, reports, metrics and alerts of every process")]

    def __str__(self) -> str:
        return f"{self.kind} {self.process_id}/{self.element_id} ×{self.count}"


class AlertCursor(models.Model):
    """How far the alert run read a source (incidents, overdue tasks...): the last row or time it handled."""

    name = models.CharField(max_length=64, unique=True)
    position = models.BigIntegerField(default=0)
    at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"

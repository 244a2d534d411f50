"""What monitoring persists: the alerts it sent, one row per process, element, kind and window."""

from __future__ import annotations

from django.db import models


class Alert(models.Model):
    """One alert: a kind of problem at one element of one process, counted within its window.

    Problems of the same kind at the same place within the window add to `count` of one
    row and go out once, so a storm of failures is one message with a count.
    """

    INCIDENT, OVERDUE, STUCK, ERROR_RATE = "incident", "overdue", "stuck", "error_rate"
    # A buffered message no instance took before its time to live ran out: a hand-off lost. Its
    # element_id is the message name and its process_id is empty (no process ever had it).
    MESSAGE_EXPIRED = "message_expired"
    KINDS = [(INCIDENT, "incident opened"), (OVERDUE, "task overdue"), (STUCK, "instance without progress"),
             (ERROR_RATE, "error rate above threshold"), (MESSAGE_EXPIRED, "message expired undelivered")]

    kind = models.CharField(max_length=16, choices=KINDS)
    process_id = models.CharField(max_length=255)
    element_id = models.CharField(max_length=255, blank=True)
    element_name = models.CharField(max_length=255, blank=True)
    count = models.PositiveIntegerField(default=0)
    # Ids of the instances concerned (the first ones), for the links in the message.
    instance_ids = models.JSONField(default=list, blank=True)
    detail = models.TextField(blank=True)
    # Groups whose members get the email besides the operators (an overdue task's candidates).
    roles = models.JSONField(default=list, blank=True)
    window_start = models.DateTimeField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    # When a message last went out and the count it said: an alert found again in its window is not
    # sent again; once the window has closed, what came after the first message goes out as one more.
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_count = models.PositiveIntegerField(default=0)
    # Per channel: "sent" or the error, for the alerts page.
    channels = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "process_id", "element_id", "window_start"],
                                               name="one_alert_per_window")]
        ordering = ["-last_at"]
        permissions = [("view_reports", "Can see the monitor, reports, metrics and alerts of every process")]

    def __str__(self) -> str:
        return f"{self.kind} {self.process_id}/{self.element_id} ×{self.count}"


class AlertCursor(models.Model):
    """How far an alert rule (or the pass counts) read its source: the last row or time it handled."""

    name = models.CharField(max_length=64, unique=True)
    position = models.BigIntegerField(default=0)
    at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"


class CallCount(models.Model):
    """Service calls and failed ones per element within one alert window, for the error-rate rule."""

    process_id = models.CharField(max_length=255)
    element_id = models.CharField(max_length=255)
    window_start = models.DateTimeField()
    calls = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["process_id", "element_id", "window_start"],
                                               name="one_call_count_per_window")]

    def __str__(self) -> str:
        return f"{self.process_id}/{self.element_id}: {self.errors}/{self.calls}"


class PassCount(models.Model):
    """Completed passes of one element of one definition version, counted from the history (monitoring.passes)."""

    definition_id = models.PositiveBigIntegerField()
    element_id = models.CharField(max_length=255)
    # "task": human tasks; "job": service calls and timers. Says which table holds the pass's times.
    source = models.CharField(max_length=8)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["definition_id", "element_id", "source"],
                                               name="one_pass_count_per_element")]

    def __str__(self) -> str:
        return f"{self.definition_id}/{self.element_id}: {self.count}"

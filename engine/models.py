"""What the engine persists: definitions, instances and the query tables beside them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ProcessDefinition(models.Model):
    """One deployed version of a BPMN process; the parsed spec is stored once here."""

    process_id = models.CharField(max_length=255, db_index=True)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=255, blank=True)
    bpmn_xml = models.TextField()
    file_name = models.CharField(max_length=255, blank=True)
    content_hash = models.CharField(max_length=64)
    spec_json = models.TextField()
    lanes = models.JSONField(default=list, blank=True)
    # Lane name → Django group name; editable by analysts after deploy.
    lane_roles = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # Field mappings deployed with this version (customer codes, units...), for the connectors.
    mappings = models.JSONField(default=dict, blank=True)
    # Which variables its tasks show as amount and customer (engine.task_columns), from the process's properties.
    task_columns = models.JSONField(default=dict, blank=True)
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    deployed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process_id", "version"], name="unique_process_version"),
        ]
        ordering = ["process_id", "-version"]

    def __str__(self) -> str:
        return f"{self.process_id} v{self.version}"


class DecisionDefinition(models.Model):
    """One deployed version of a DMN decision table; its rules are stored translated into expressions."""

    decision_id = models.CharField(max_length=255, db_index=True)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=255, blank=True)
    # As the table says it, with its aggregation: "UNIQUE", "FIRST", "COLLECT SUM"...
    hit_policy = models.CharField(max_length=32)
    dmn_xml = models.TextField()
    file_name = models.CharField(max_length=255, blank=True)
    content_hash = models.CharField(max_length=64)
    # Inputs, outputs and rules with every entry as a restricted Python expression (engine.decisions).
    table = models.JSONField(default=dict)
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    deployed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["decision_id", "version"], name="unique_decision_version"),
        ]
        ordering = ["decision_id", "-version"]

    def __str__(self) -> str:
        return f"{self.decision_id} v{self.version}"


class ProcessInstance(models.Model):
    """One run of a definition; `state_json` holds SpiffWorkflow's state without the spec."""

    ACTIVE, SUSPENDED, COMPLETED, CANCELLED, FAILED = "active", "suspended", "completed", "cancelled", "failed"
    STATES = [(s, s) for s in (ACTIVE, SUSPENDED, COMPLETED, CANCELLED, FAILED)]
    # Not ended: a suspended instance still holds its tasks, calls and timers.
    RUNNING = (ACTIVE, SUSPENDED)

    definition = models.ForeignKey(ProcessDefinition, on_delete=models.PROTECT, related_name="instances")
    business_key = models.CharField(max_length=255, blank=True, db_index=True)
    state = models.CharField(max_length=16, choices=STATES, default=ACTIVE, db_index=True)
    state_json = models.TextField(blank=True)
    variables = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # The name of the end event reached ("Quote rejected"); empty while running or if it ended otherwise.
    outcome = models.CharField(max_length=255, blank=True)
    # Optimistic lock: every write checks and bumps it.
    version = models.PositiveIntegerField(default=0)
    # NULL, not "", so the unique constraint ignores instances started without a key.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["started_by", "idempotency_key"], name="unique_idempotency_key"),
        ]
        indexes = [
            # Reports, trends and the instance list filter by the day an instance started; the
            # dashboard's lead times read ended_at beside it.
            models.Index(fields=["started_at", "ended_at"], name="engine_instance_started_ended"),
            # The monitor counts instances per process and state, and those completed since a time,
            # from these indexes alone rather than from every row.
            models.Index(fields=["definition", "state"], name="engine_instance_def_state"),
            # Maps the monitor's open tasks, jobs and incidents to their process without reading the rows.
            models.Index(fields=["id", "definition"], name="engine_instance_id_def"),
            models.Index(fields=["state", "ended_at", "started_at"], name="engine_instance_state_ended"),
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.definition.process_id} #{self.pk}"


class HumanTask(models.Model):
    """A user task waiting for (or done by) a person; one row per run of the element."""

    OPEN, COMPLETED, CANCELLED = "open", "completed", "cancelled"
    STATES = [(s, s) for s in (OPEN, COMPLETED, CANCELLED)]

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="human_tasks")
    task_id = models.UUIDField(unique=True)
    element_id = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    lane = models.CharField(max_length=255, blank=True)
    candidate_groups = models.JSONField(default=list, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tasks"
    )
    form = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    documentation = models.TextField(blank=True)
    priority = models.IntegerField(default=50)
    due_at = models.DateTimeField(null=True, blank=True)
    # Copied from the variables the process names (engine.task_columns) when the task opens.
    amount = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    customer = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=16, choices=STATES, default=OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set when a substitute completed it for an absent colleague: the colleague.
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "due_at"]), models.Index(fields=["state", "created_at"]),
                   # The monitor counts open tasks per element and instance from this index alone.
                   models.Index(fields=["state", "instance", "element_id", "due_at"], name="engine_task_state_element")]
        ordering = ["-created_at"]
        permissions = [("act_on_humantask", "Can claim and complete this task")]

    def __str__(self) -> str:
        return f"{self.name} ({self.instance_id})"


class Job(models.Model):
    """Work the engine hands out, run after commit: a service call, a timer, or a message or signal thrown."""

    SERVICE, TIMER, MESSAGE, SIGNAL = "service", "timer", "message", "signal"
    PENDING, RUNNING, DONE, FAILED, CANCELLED = "pending", "running", "done", "failed", "cancelled"
    STATES = [(s, s) for s in (PENDING, RUNNING, DONE, FAILED, CANCELLED)]

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, default=SERVICE)
    task_id = models.UUIDField()
    element_id = models.CharField(max_length=255)
    operation = models.CharField(max_length=255, blank=True)
    input = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=STATES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    # Seconds before the first retry; doubles with each attempt.
    backoff_seconds = models.FloatField(default=2.0)
    due_at = models.DateTimeField(db_index=True)
    # A running job whose lease passed belongs to a dead worker and is taken again.
    locked_until = models.DateTimeField(null=True, blank=True)
    # "host:pid" of the process that claimed it last, so a restart can take back a dead process's jobs at once.
    claimed_by = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["state", "due_at"]),
                   # The monitor counts waiting jobs per element and instance from this index alone.
                   models.Index(fields=["state", "instance", "element_id"], name="engine_job_state_element")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.operation or self.element_id} ({self.state})"


class Incident(models.Model):
    """A problem a person has to look at: failed call or failed script."""

    OPEN, RESOLVED = "open", "resolved"
    # How a resolved incident was closed.
    RETRIED, SKIPPED, CANCELLED = "retried", "skipped", "cancelled"
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="incidents")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents")
    element_id = models.CharField(max_length=255, blank=True)
    message = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, default=OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    resolution = models.CharField(max_length=16, blank=True)
    comment = models.TextField(blank=True)
    # How often an operator asked for the call again, and when the last attempt failed.
    retries = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Incident {self.pk}: {self.message[:60]}"


class HistoryEvent(models.Model):
    """Append-only record of what happened to an instance."""

    STARTED = "started"
    TASK_READY = "task_ready"
    TASK_COMPLETED = "task_completed"
    TASK_CLAIMED = "task_claimed"
    SERVICE_ATTEMPT = "service_attempt"
    SERVICE_RESULT = "service_result"
    SERVICE_ERROR = "service_error"
    INCIDENT = "incident"
    INCIDENT_RETRIED = "incident_retried"
    RETRY_FAILED = "retry_failed"
    INCIDENT_RESOLVED = "incident_resolved"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    VARIABLES_CHANGED = "variables_changed"
    TOKENS_MOVED = "tokens_moved"
    MIGRATED = "migrated"
    TIMER_FIRED = "timer_fired"
    MESSAGE = "message"  # received
    MESSAGE_SENT = "message_sent"
    SIGNAL = "signal"  # received
    SIGNAL_SENT = "signal_sent"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"

    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="history")
    kind = models.CharField(max_length=32)
    element_id = models.CharField(max_length=255, blank=True)
    element_name = models.CharField(max_length=255, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.element_id}"


class Subscription(models.Model):
    """A task waiting for a message or a signal: the index deliveries are routed by.

    Written and deleted in the same transaction as the instance, so a row exists
    exactly while its task waits.
    """

    MESSAGE, SIGNAL = "message", "signal"

    kind = models.CharField(max_length=16)
    name = models.CharField(max_length=255)
    business_key = models.CharField(max_length=255, blank=True)
    # The waiting task's plain variables: a message's `correlation` entries must all equal them.
    correlation = models.JSONField(default=dict, blank=True)
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="subscriptions")
    element_id = models.CharField(max_length=255)
    task_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "name", "business_key"])]
        constraints = [models.UniqueConstraint(fields=["task_id", "kind", "name"], name="unique_task_subscription")]
        ordering = ["id"]
        permissions = [("send_message", "Can send messages and signals to processes")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.instance_id})"


class BufferedMessage(models.Model):
    """A message nobody waited for yet, kept until an instance reaches a matching catch or it expires."""

    WAITING, DELIVERED, EXPIRED = "waiting", "delivered", "expired"

    name = models.CharField(max_length=255)
    business_key = models.CharField(max_length=255, blank=True)
    correlation = models.JSONField(default=dict, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, default=WAITING)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when delivered: the instance that received it.
    instance = models.ForeignKey(ProcessInstance, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "name", "business_key"]), models.Index(fields=["state", "expires_at"])]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"buffered {self.name} ({self.state})"


class MessageReceipt(models.Model):
    """The answer given to a message or signal sent with an Idempotency-Key, to give it again."""

    # Who sent it ("user:<id>", or "webhook") and through which door: one sender's keys are its own.
    sender = models.CharField(max_length=64)
    channel = models.CharField(max_length=16)
    idempotency_key = models.CharField(max_length=255)
    status = models.PositiveSmallIntegerField()
    answer = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sender", "channel", "idempotency_key"],
                                               name="unique_message_receipt")]

    def __str__(self) -> str:
        return f"{self.channel} {self.idempotency_key} → {self.status}"


class StartTrigger(models.Model):
    """A start event of a process's newest version that starts instances on a message, a signal or a time."""

    MESSAGE, SIGNAL, TIMER = "message", "signal", "timer"

    definition = models.ForeignKey(ProcessDefinition, on_delete=models.CASCADE, related_name="start_triggers")
    process_id = models.CharField(max_length=255, db_index=True)
    element_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=16)
    # The message or signal name, or the timer's ISO 8601 text.
    name = models.CharField(max_length=255)
    # Timers: the next firing (None once none is left), the interval and the firings left (None: for ever).
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    every_seconds = models.FloatField(null=True, blank=True)
    remaining = models.IntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "name"])]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.process_id}: {self.kind} {self.name}"


class Rollout(models.Model):
    """Which version new instances of a process start on: a share on `version`, the rest on `default_version`."""

    process_id = models.CharField(max_length=255, unique=True)
    # The version that was the default before `version` (the last promoted one).
    default_version = models.PositiveIntegerField()
    version = models.PositiveIntegerField()
    percent = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField(blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.process_id}: {self.percent}% on v{self.version}, else v{self.default_version}"

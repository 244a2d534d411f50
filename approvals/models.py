"""Object permissions on human tasks (direct foreign keys keep inbox queries fast) and notifications."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from engine.models import HumanTask, ProcessInstance


class HumanTaskUserPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(HumanTask, on_delete=models.CASCADE)


class HumanTaskGroupPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(HumanTask, on_delete=models.CASCADE)


class TaskNotification(models.Model):
    """A candidate to tell about a new task; sent in batches, one email per user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(HumanTask, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "task"], name="unique_task_notification")]
        indexes = [models.Index(fields=["sent_at", "user"])]

    def __str__(self) -> str:
        return f"{self.user} ← task {self.task_id}"


class UserPreference(models.Model):
    """What a user chose for themselves; follows them to every browser they log in from."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    # No choices here: a language added to settings.LANGUAGES must not need a migration.
    language = models.CharField(max_length=16)

    def __str__(self) -> str:
        return f"{self.user}: {self.language}"


class Absence(models.Model):
    """A user away for some days, and the colleague who stands in for them meanwhile.

    From `starts_on` to `ends_on` (both included, the site's dates) the substitute may see,
    claim and complete the absent user's tasks (approvals.permissions.stand_in_tasks).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="absences")
    substitute = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stand_ins")
    starts_on = models.DateField()
    ends_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["substitute", "ends_on"]), models.Index(fields=["user", "ends_on"])]
        ordering = ["starts_on", "id"]

    def __str__(self) -> str:
        return f"{self.user} away {self.starts_on}–{self.ends_on}, {self.substitute} stands in"


class OrderNotice(models.Model):
    """Tells an initiator that their order ended badly: in their inbox, and by one email each."""

    REJECTED, CANCELLED, FAILED = "rejected", "cancelled", "failed"
    KINDS = [(k, k) for k in (REJECTED, CANCELLED, FAILED)]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    instance = models.ForeignKey(ProcessInstance, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=KINDS)
    # Where it ended (end event or failed step) and why, as the process said it.
    step = models.CharField(max_length=255, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "instance"], name="unique_order_notice")]
        indexes = [models.Index(fields=["sent_at"]), models.Index(fields=["user", "dismissed_at"])]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} ← {self.kind} {self.instance_id}"

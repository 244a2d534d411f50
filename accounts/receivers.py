"""Signal receivers that feed the audit log."""

from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts import audit
from accounts.models import AuditEvent
from engine.signals import operator_action


@receiver(post_save, sender=LogEntry, dispatch_uid="accounts.audit_admin_entry")
def audit_admin_entry(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    if created:
        audit.record_admin_entry(instance)


@receiver(user_locked_out, dispatch_uid="accounts.audit_lockout")
def audit_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    audit.record_lockout(username or "", ip_address)


@receiver(operator_action, dispatch_uid="accounts.audit_operator_action")
def audit_operator_action(sender, user=None, action="", object="", detail="", **kwargs) -> None:
    # The action ("instance.suspend", "rollout"...) leads the detail: the log's action column is the kind.
    audit.record(AuditEvent.OPERATION, user, object, f"{action}: {detail}")

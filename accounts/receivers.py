"""Signal receivers that feed the audit log."""

from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts import audit


@receiver(post_save, sender=LogEntry, dispatch_uid="accounts.audit_admin_entry")
def audit_admin_entry(sender, instance: LogEntry, created: bool, **kwargs) -> None:
    if created:
        audit.record_admin_entry(instance)


@receiver(user_locked_out, dispatch_uid="accounts.audit_lockout")
def audit_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    audit.record_lockout(username or "", ip_address)

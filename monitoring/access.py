"""Who sees monitoring: Operator, Auditor, Analyst and Manager roles and superusers."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

PERMISSION = "monitoring.view_reports"


def can_monitor(user) -> bool:
    """Whether the user sees the monitor, reports and alerts of every process."""
    return bool(user and user.is_authenticated and user.has_perm(PERMISSION))


class CanMonitor(BasePermission):
    """DRF: only users who may monitor; others get 403."""

    message = "You need a role that sees monitoring (Operator, Auditor, Analyst or Manager)"

    def has_permission(self, request, view) -> bool:
        return can_monitor(request.user)

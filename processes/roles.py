"""The product's own roles, as Django groups with model permissions."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

# role → permissions (app_label.codename); approver roles come from lanes.
ROLES: dict[str, list[str]] = {
    "Analyst": [
        "engine.add_processdefinition", "engine.change_processdefinition", "engine.view_processdefinition",
        "engine.add_processinstance", "engine.view_processinstance", "engine.view_historyevent",
        "engine.send_message", "monitoring.view_reports",
    ],
    "Operator": [
        "engine.view_processdefinition", "engine.view_processinstance", "engine.change_processinstance",
        "engine.view_incident", "engine.change_incident", "engine.view_historyevent", "engine.view_job",
        "engine.send_message", "monitoring.view_reports",
    ],
    # Other systems (a shop, the ERP's event watcher) that send messages and signals with a token.
    "Integration": ["engine.send_message"],
    "Auditor": [
        "engine.view_processdefinition", "engine.view_processinstance", "engine.view_incident",
        "engine.view_historyevent", "monitoring.view_reports", "accounts.view_auditevent",
    ],
    # Managers approve in their lane and watch every order from above it.
    "Manager": ["monitoring.view_reports"],
}
DEMO_LANE_ROLES = ["Sales", "Manager", "Finance", "Warehouse"]


def ensure_roles() -> None:
    """Create the product roles with their permissions (idempotent)."""
    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.add(*wanted)


def instances_visible_to_all(user) -> bool:
    """Operators, auditors, analysts and admins see every instance."""
    return user.is_superuser or user.has_perm("engine.view_processinstance")

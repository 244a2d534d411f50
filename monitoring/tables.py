"""The reports as tables with headers in the user's language, for the pages and the downloads."""

from __future__ import annotations

from django.utils.translation import gettext as _

from monitoring.elements import Element
from monitoring.reports import LEDGER_LABELS


def state_label(state: str) -> str:
    """An instance state as users read it."""
    return {"active": _("active"), "completed": _("completed"), "cancelled": _("cancelled"),
            "failed": _("failed")}.get(state, state)


def stage_table(rows: list[dict], steps: list[Element], kinds: list[str]) -> tuple[list[str], list[list]]:
    """One row per instance: its facts, its numbers in other systems, then when each step was done."""
    headers = [_("Instance"), _("Business key"), _("State"), _("Outcome"), _("Current step"), _("Started"),
               _("Ended"), _("Duration (seconds)")]
    headers += [str(LEDGER_LABELS.get(kind, kind)) for kind in kinds]
    headers += [_("%(step)s done") % {"step": step.name} for step in steps]
    table = []
    for row in rows:
        done = {s["element_id"]: s["done_at"] for s in row["steps"]}
        table.append(
            [row["id"], row["business_key"], state_label(row["state"]), row["outcome"], row["current"],
             row["started_at"], row["ended_at"], row["duration_seconds"]]
            + [row["external_ids"].get(kind, "") for kind in kinds]
            + [done.get(step.element_id) for step in steps])
    return headers, table


def exceptions_table(report: dict) -> tuple[list[str], list[list]]:
    """One row per process and element with the month's exception counts."""
    headers = [_("Process"), _("Element"), _("Incidents"), _("Still open"), _("Resolved"),
               _("Mean time to resolve (seconds)"), _("Overdue tasks"), _("Failed instances"),
               _("Cancelled instances")]
    table = [[r["process_id"], r["element_name"], r["incidents"], r["incidents_open"], r["incidents_resolved"],
              r["avg_resolve_seconds"], r["overdue_tasks"], r["failed_instances"], r["cancelled_instances"]]
             for r in report["rows"]]
    return headers, table

"""An order as the people in the lanes follow it: who may see it, where it stands, and when it ended badly."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from approvals.models import OrderNotice
from engine import waits
from engine.models import HistoryEvent, Incident, Job, ProcessInstance
from monitoring.elements import elements_of, names

# Without the analyst's marking (the end event's `outcome` property), an end event whose id or name says so is a
# rejection ("Quote rejected", "EndEvent_Rejected", "报价被拒绝").
REJECTION = re.compile(r"reject|declin|拒绝|驳回", re.IGNORECASE)


def orders_for_user(user) -> QuerySet[ProcessInstance]:
    """The instances `user` started or acted on (claimed, completed, delegated a task of)."""
    if not user.is_authenticated:
        return ProcessInstance.objects.none()
    acted = HistoryEvent.objects.filter(user=user).values("instance_id")
    return ProcessInstance.objects.filter(Q(started_by=user) | Q(pk__in=acted)).select_related("definition")


def can_follow(user, instance: ProcessInstance) -> bool:
    """True if `user` may read `instance`'s order page: theirs, or they watch every instance."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.has_perm("engine.view_processinstance") or instance.started_by_id == user.pk:
        return True
    return HistoryEvent.objects.filter(instance=instance, user=user).exists()


def _step_name(instance: ProcessInstance, element_id: str) -> str:
    """The element's name in the diagram, else its id."""
    return names(elements_of(instance.definition)).get(element_id) or element_id


def current_steps(instance: ProcessInstance) -> list[str]:
    """Names of the steps the order waits at now: tasks, calls, messages, timers, and where it is stuck."""
    if instance.state not in ProcessInstance.RUNNING:
        return []
    elements = elements_of(instance.definition)
    # A timer or message on a task's border is no step of its own: the task is.
    borders = {e.element_id for e in elements if e.type == "boundaryEvent"}
    ids = [w.element_id for w in waits.pending(instance) if w.element_id not in borders]
    ids += list(instance.incidents.filter(state=Incident.OPEN).order_by("id").values_list("element_id", flat=True))
    named = names(elements)
    return list(dict.fromkeys(named.get(i) or i for i in ids if i))


def start_report(instance: ProcessInstance) -> tuple[str, str]:
    """(level, sentence) saying what the start did, never more than happened: "success", "warning" or "error"."""
    instance.refresh_from_db(fields=["state", "error", "outcome"])
    what = {"process": instance.definition.name or instance.definition.process_id, "id": instance.pk}
    if instance.state == ProcessInstance.FAILED:
        incident = instance.incidents.order_by("-id").first()
        step = _step_name(instance, incident.element_id) if incident and incident.element_id else _("its first steps")
        return "error", _("Started %(process)s #%(id)s, but it failed at %(step)s: %(reason)s") % {
            **what, "step": step, "reason": instance.error or (incident.message if incident else "")}
    incident = instance.incidents.filter(state=Incident.OPEN).order_by("id").first()
    if incident is not None:
        return "error", _("Started %(process)s #%(id)s, but it stopped at %(step)s: %(reason)s") % {
            **what, "step": _step_name(instance, incident.element_id), "reason": incident.message}
    retrying = instance.jobs.filter(state=Job.PENDING).exclude(last_error="").order_by("id").first()
    if retrying is not None:
        return "warning", _("Started %(process)s #%(id)s, but %(step)s failed and will be tried again: %(reason)s") % {
            **what, "step": _step_name(instance, retrying.element_id), "reason": retrying.last_error}
    if instance.state == ProcessInstance.CANCELLED:
        return "warning", _("Started %(process)s #%(id)s, but it was cancelled.") % what
    if instance.state == ProcessInstance.COMPLETED:
        return "success", _("Started %(process)s #%(id)s; it ended: %(outcome)s.") % {
            **what, "outcome": instance.outcome or _("completed")}
    steps = current_steps(instance)
    if steps:
        return "success", _("Started %(process)s #%(id)s. It now waits at: %(steps)s.") % {
            **what, "steps": ", ".join(steps)}
    return "success", _("Started %(process)s #%(id)s.") % what


def is_rejection(end_event: str, outcome: str, kind: str = "") -> bool:
    """True if the end event reached means the order was rejected: as marked, else as its id or name says."""
    if kind:
        return kind == "rejected"
    return bool(REJECTION.search(f"{end_event} {outcome}"))


def record_bad_end(instance: ProcessInstance, state: str, end_event: str, outcome: str, reason: str,
                   variables: dict, kind: str = "") -> OrderNotice | None:
    """Inside the engine's write: note for the initiator that their order was rejected, cancelled or failed."""
    if instance.started_by_id is None:
        return None
    if state == ProcessInstance.COMPLETED:
        if not is_rejection(end_event, outcome, kind):
            return None
        kind, step = OrderNotice.REJECTED, outcome or end_event
        reason = str(variables.get("rejection_reason") or "")
    elif state == ProcessInstance.CANCELLED:
        kind, step = OrderNotice.CANCELLED, ""
    elif state == ProcessInstance.FAILED:
        kind, step = OrderNotice.FAILED, ""
    else:
        return None
    notice, _created = OrderNotice.objects.get_or_create(
        user_id=instance.started_by_id, instance=instance,
        defaults={"kind": kind, "step": step[:255], "reason": reason})
    return notice

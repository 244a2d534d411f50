"""What users see of processes: which instances, and which actions they may take."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import HttpResponse

from approvals.permissions import tasks_for_user
from engine.models import Incident, ProcessDefinition, ProcessInstance
from processes.roles import instances_visible_to_all


def instances_for_user(user) -> QuerySet[ProcessInstance]:
    """Instances the user may read: all for operators/auditors/analysts, else their own and their tasks'."""
    instances = ProcessInstance.objects.select_related("definition")
    if instances_visible_to_all(user):
        return instances
    return instances.filter(
        Q(started_by=user) | Q(pk__in=tasks_for_user(user).values("instance_id"))
    ).distinct()


def filter_instances(instances: QuerySet[ProcessInstance], state: str = "", process: str = "",
                     business_key: str = "") -> QuerySet[ProcessInstance]:
    """Instances narrowed by the filters users have in the list page and the API; empty ones don't filter."""
    if state:
        instances = instances.filter(state=state)
    if process:
        instances = instances.filter(definition__process_id=process)
    if business_key:
        instances = instances.filter(business_key=business_key)
    return instances.order_by("-id")


def incidents_for_user(user) -> QuerySet[Incident]:
    """Incidents of the instances the user may read."""
    return Incident.objects.filter(instance__in=instances_for_user(user).values("pk")).select_related("instance")


def bpmn_download(definition: ProcessDefinition) -> HttpResponse:
    """The definition's BPMN file as deployed, as a download named after process and version."""
    response = HttpResponse(definition.bpmn_xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{definition.process_id}-v{definition.version}.bpmn"'
    return response

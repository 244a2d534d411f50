"""What users see of processes: which instances, and which actions they may take."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone

from approvals.permissions import tasks_for_user
from engine import runtime
from engine.deploy import specs_for
from engine.models import HumanTask, Incident, Job, ProcessDefinition, ProcessInstance, Rollout
from integrations.ledger import instance_numbers, instances_with_number
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


def search_instances(instances: QuerySet[ProcessInstance], q: str) -> QuerySet[ProcessInstance]:
    """Instances that touched `q` as any system's number or as their business key (both are in the ledger)."""
    q = q.strip()
    if not q:
        return instances
    return instances.filter(pk__in=instances_with_number(q))


def waiting_at(instances: QuerySet[ProcessInstance], element_id: str) -> QuerySet[ProcessInstance]:
    """Instances waiting at (or failed at) one element now: an open task, a pending call or timer, an incident."""
    return instances.filter(
        Q(pk__in=HumanTask.objects.filter(state=HumanTask.OPEN, element_id=element_id).values("instance_id"))
        | Q(pk__in=Job.objects.filter(state__in=[Job.PENDING, Job.RUNNING], element_id=element_id).values(
            "instance_id"))
        | Q(pk__in=Incident.objects.filter(state=Incident.OPEN, element_id=element_id).values("instance_id")))


def started_between(instances: QuerySet[ProcessInstance], first: date | None, last: date | None
                    ) -> QuerySet[ProcessInstance]:
    """Instances started on or after day `first` and on or before day `last` (the site's time zone)."""
    zone = timezone.get_current_timezone()
    if first:
        instances = instances.filter(started_at__gte=datetime.combine(first, time.min, tzinfo=zone))
    if last:
        instances = instances.filter(started_at__lt=datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone))
    return instances


def list_rows(instances: list[ProcessInstance]) -> list[dict]:
    """What the operator's instance list shows per instance, read from the query tables in four queries."""
    ids = [i.pk for i in instances]
    current: dict[int, list[str]] = {i: [] for i in ids}
    for instance_id, name in HumanTask.objects.filter(instance_id__in=ids, state=HumanTask.OPEN).order_by(
            "id").values_list("instance_id", "name"):
        current[instance_id].append(name)
    by_id = {i.pk: i for i in instances}
    for instance_id, element_id in Job.objects.filter(
            instance_id__in=ids, state__in=[Job.PENDING, Job.RUNNING], kind=Job.SERVICE).order_by("id").values_list(
            "instance_id", "element_id"):
        current[instance_id].append(element_name(by_id[instance_id].definition, element_id))
    incidents = dict(Incident.objects.filter(instance_id__in=ids, state=Incident.OPEN).values_list(
        "instance_id").annotate(n=Count("id")).order_by())
    customers = dict(ProcessInstance.objects.filter(pk__in=ids).values_list("pk", "variables__customer"))
    erp = {}
    for instance_id, value in instance_numbers(ids, "erp.sale"):
        erp.setdefault(instance_id, value)
    return [{
        "instance": i, "current": current[i.pk], "incidents": incidents.get(i.pk, 0),
        "customer": _customer(customers.get(i.pk)), "erp_number": erp.get(i.pk, ""),
    } for i in instances]


def _customer(value) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or value.get("code") or "")
    return "" if value is None else str(value)


def element_name(definition: ProcessDefinition, element_id: str) -> str:
    """The name an element has in the diagram, else its id."""
    spec, _subprocesses = specs_for(definition)
    task_spec = spec.task_specs.get(element_id)
    return getattr(task_spec, "bpmn_name", None) or element_id


def incidents_for_user(user) -> QuerySet[Incident]:
    """Incidents of the instances the user may read."""
    return Incident.objects.filter(instance__in=instances_for_user(user).values("pk")).select_related("instance")


def filter_incidents(incidents: QuerySet[Incident], ids: list[int] | None = None, process_id: str | None = None,
                     element_id: str | None = None) -> QuerySet[Incident]:
    """The open incidents among `incidents` with these ids, of this process and/or at this element."""
    incidents = incidents.filter(state=Incident.OPEN)
    if ids:
        incidents = incidents.filter(pk__in=ids)
    if process_id:
        incidents = incidents.filter(instance__definition__process_id=process_id)
    if element_id:
        incidents = incidents.filter(element_id=element_id)
    return incidents


def rollout_state(process_id: str) -> dict:
    """The rollout of a process as the API and the definition page show it, with instances per version."""
    latest = runtime.latest_definition(process_id).version
    current = Rollout.objects.filter(process_id=process_id).select_related("updated_by").first()
    counts = (ProcessInstance.objects.filter(definition__process_id=process_id)
              .values("definition__version").annotate(total=Count("id"),
                                                      active=Count("id", filter=Q(state__in=ProcessInstance.RUNNING)))
              .order_by("-definition__version"))
    return {
        "process_id": process_id, "latest_version": latest,
        "version": current.version if current else latest,
        "percent": current.percent if current else 100,
        "default_version": current.default_version if current else latest,
        "reason": current.reason if current else "",
        "updated_by": current.updated_by.get_username() if current and current.updated_by else None,
        "updated_at": current.updated_at if current else None,
        "instances": [{"version": c["definition__version"], "running": c["active"], "total": c["total"]}
                      for c in counts],
    }


def bpmn_download(definition: ProcessDefinition) -> HttpResponse:
    """The definition's BPMN file as deployed, as a download named after process and version."""
    response = HttpResponse(definition.bpmn_xml, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{definition.process_id}-v{definition.version}.bpmn"'
    return response

"""Pages for analysts and operators: definitions, instances, history, incidents."""

import json
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from engine import jobs, migration, modify, repairs, rollout, runtime, waits
from engine.deploy import DeployError, deploy_files, lane_warnings, parse_bindings, parse_mappings
from engine.models import DecisionDefinition, HistoryEvent, HumanTask, Incident, Job, ProcessDefinition, ProcessInstance
from integrations import erp_advance
from processes.forms import (
    CancelForm,
    EditVariablesForm,
    IncidentsActionForm,
    LaneRolesForm,
    MoveTokenForm,
    ReasonForm,
    ResolveForm,
    RetryForm,
    RolloutForm,
    UploadForm,
)
from processes.services import (
    bpmn_download,
    filter_incidents,
    filter_instances,
    incidents_for_user,
    instances_for_user,
    list_rows,
    rollout_state,
    search_instances,
    started_between,
    waiting_at,
)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def definitions(request):
    """Latest version of every process, and the upload form for analysts."""
    form = UploadForm()
    bindings_text = ""
    if request.method == "POST":
        if not request.user.has_perm("engine.add_processdefinition"):
            raise PermissionDenied
        form = UploadForm(request.POST, request.FILES)
        bindings_text = request.POST.get("bindings", "")
        if form.is_valid():
            uploads = form.cleaned_data["file"]
            try:
                mappings_file = request.FILES.get("mappings")
                deployment = deploy_files([(u.name, u.read()) for u in uploads], request.user,
                                          bindings=parse_bindings(bindings_text),
                                          mappings=parse_mappings(mappings_file.read(1024 * 1024) if mappings_file
                                                                  else None))
            except DeployError as exc:
                where = []
                if exc.element_id:
                    where.append(_("element %(id)s") % {"id": exc.element_id})
                if exc.line:
                    where.append(_("line %(line)s") % {"line": exc.line})
                form.add_error("file", exc.message + (f" ({', '.join(where)})" if where else ""))
            else:
                for warning in deployment.warnings:
                    messages.warning(request, warning)
                for decision in deployment.decisions:
                    messages.success(request, _("Decision %(decision)s version %(version)s is deployed")
                                     % {"decision": decision.decision_id, "version": decision.version})
                if not deployment.definitions:
                    return redirect("processes:definitions")
                first = deployment.definitions[0]
                if deployment.created:
                    messages.success(request, _("Deployed %(process)s version %(version)s")
                                     % {"process": first.process_id, "version": first.version})
                else:
                    messages.info(request, _("Unchanged: %(process)s version %(version)s has the same content")
                                  % {"process": first.process_id, "version": first.version})
                return redirect("processes:definition", first.pk)
    newest = ProcessDefinition.objects.filter(process_id=OuterRef("process_id")).order_by("-version").values("pk")[:1]
    rows = ProcessDefinition.objects.filter(pk=Subquery(newest)).order_by("process_id")
    latest = DecisionDefinition.objects.filter(decision_id=OuterRef("decision_id")).order_by("-version")
    decisions = DecisionDefinition.objects.filter(pk=Subquery(latest.values("pk")[:1])).order_by("decision_id")
    return render(request, "processes/definitions.html",
                  {"definitions": rows, "decisions": decisions, "form": form, "bindings": bindings_text},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def definition(request, pk: int):
    """One definition version: lanes and their roles, warnings, versions."""
    definition = get_object_or_404(ProcessDefinition, pk=pk)
    can_edit = request.user.has_perm("engine.change_processdefinition")
    form = LaneRolesForm(request.POST or None, lanes=definition.lanes, initial_roles=definition.lane_roles)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        if form.is_valid():
            definition.lane_roles = form.roles()
            # Keep the file's own warnings (data stores, unknown operations); redo the lanes' ones.
            file_warnings = [w for w in definition.warnings if not w.startswith("Lane ")]
            definition.warnings = file_warnings + lane_warnings(definition.lane_roles)
            definition.save(update_fields=["lane_roles", "warnings"])
            messages.success(request, _("Lane roles saved"))
            return redirect("processes:definition", definition.pk)
    versions = list(ProcessDefinition.objects.filter(process_id=definition.process_id).order_by("-version"))
    running = migration.running_counts(definition.process_id)
    for version in versions:
        version.running = running.get(version.version, 0)
    rollout = rollout_state(definition.process_id)
    return render(request, "processes/definition.html", {
        "definition": definition, "form": form, "can_edit": can_edit, "versions": versions,
        "rollout": rollout, "rollout_form": RolloutForm(
            versions=[v.version for v in versions], initial={"version": rollout["version"],
                                                            "percent": rollout["percent"]}),
        "instance_count": definition.instances.count(),
        "can_migrate": request.user.has_perm("engine.change_processinstance"),
    }, status=400 if form.errors else 200)


@login_required
@require_POST
@permission_required("engine.change_processdefinition", raise_exception=True)
def set_rollout(request, pk: int):
    """Start a share of new instances on the chosen version; 100 % promotes it, 0 % rolls back."""
    definition = get_object_or_404(ProcessDefinition, pk=pk)
    versions = ProcessDefinition.objects.filter(process_id=definition.process_id).values_list("version", flat=True)
    form = RolloutForm(request.POST, versions=versions)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label if field in form.fields else ''}: {' '.join(errors)}")
        return redirect("processes:definition", pk)
    data = form.cleaned_data
    rollout.set_rollout(definition.process_id, data["version"], data["percent"], request.user, data["reason"])
    messages.success(request, _("%(percent)s %% of new instances now start on version %(version)s")
                     % {"percent": data["percent"], "version": data["version"]})
    return redirect("processes:definition", pk)


@login_required
@require_safe
def definition_bpmn(request, pk: int):
    return bpmn_download(get_object_or_404(ProcessDefinition, pk=pk))


@login_required
@require_safe
def instances(request):
    """Instances the user may read: search by any system's number, filters, current step, age and outcome."""
    state = request.GET.get("state", "")
    process = request.GET.get("process", "")
    key = request.GET.get("business_key", "").strip()
    q = request.GET.get("q", "").strip()
    element = request.GET.get("element", "").strip()
    first, last, date_error = _day(request, "from"), _day(request, "to"), ""
    if (request.GET.get("from") and first is None) or (request.GET.get("to") and last is None):
        date_error = _("Dates are written YYYY-MM-DD.")
    rows = filter_instances(instances_for_user(request.user), state, process, key)
    rows = started_between(search_instances(rows, q), first, last)
    if element:
        rows = waiting_at(rows, element)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    processes = ProcessDefinition.objects.values_list("process_id", flat=True).distinct().order_by("process_id")
    return render(request, "processes/instances.html", {
        "page": page, "rows": list_rows(list(page)), "state": state, "process": process,
        "business_key": key, "q": q, "element": element, "processes": processes, "date_error": date_error,
        "date_from": request.GET.get("from", ""), "date_to": request.GET.get("to", ""),
        "states": [s for s, _label in ProcessInstance.STATES],
    })


def _day(request, name: str) -> date | None:
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None


# History events that mean "this element has run"; "completed" names the end event reached.
DONE_KINDS = {HistoryEvent.TASK_COMPLETED, HistoryEvent.SERVICE_RESULT, HistoryEvent.TIMER_FIRED,
              HistoryEvent.MESSAGE, HistoryEvent.SIGNAL, HistoryEvent.COMPLETED}


def diagram_markers(tasks: list[HumanTask], jobs: list[Job], incidents: list[Incident],
                    history: list[HistoryEvent]) -> dict[str, list[str]]:
    """Element ids to mark in the instance's diagram: done, current (waiting there) and failed.

    An element is in one list only, failed before current before done: a loop can run an element
    again, and what it is doing now matters more than what it did.
    """
    failed = {i.element_id for i in incidents if i.state == Incident.OPEN and i.element_id}
    current = {t.element_id for t in tasks if t.state == HumanTask.OPEN}
    current |= {j.element_id for j in jobs if j.state in (Job.PENDING, Job.RUNNING)}
    done = {e.element_id for e in history if e.kind in DONE_KINDS and e.element_id}
    return {
        "done": sorted(done - current - failed),
        "current": sorted(current - failed),
        "failed": sorted(failed),
    }


@login_required
@require_safe
def instance(request, pk: int):
    """Everything about one instance: its diagram, variables, open tasks, incidents and its history."""
    instance: ProcessInstance = get_object_or_404(instances_for_user(request.user), pk=pk)
    # Lists, not querysets: the tables and the diagram markers read the same rows.
    tasks = list(instance.human_tasks.select_related("assignee", "completed_by", "on_behalf_of").order_by("id"))
    incidents = list(instance.incidents.order_by("-id"))
    history = list(instance.history.select_related("user").order_by("id"))
    jobs = list(instance.jobs.order_by("id"))
    can_operate = request.user.has_perm("engine.change_processinstance")
    erp_steps = erp_advance.available_steps(instance) if can_operate and settings.LANEBRIDGE["ERP_ADVANCE"] else []
    for event in history:
        event.label = HISTORY_LABELS.get(event.kind, event.kind)
    return render(request, "processes/instance.html", {
        "variables": [(name, _readable(value)) for name, value in sorted(instance.variables.items())],
        "instance": instance,
        "definition": instance.definition,
        "markers": diagram_markers(tasks, jobs, incidents, history),
        "tasks": tasks,
        "incidents": incidents,
        "history": history,
        "jobs": jobs,
        "waiting": waits.pending(instance) if instance.state in ProcessInstance.RUNNING else [],
        "can_cancel": can_operate and instance.state in ProcessInstance.RUNNING,
        "can_operate": can_operate,
        "running_states": ProcessInstance.RUNNING,
        "can_retry": request.user.has_perm("engine.change_incident"),
        "cancel_form": CancelForm(),
        "retry_form": RetryForm(),
        "erp_steps": erp_steps,
        **_move_token_context(instance, can_operate),
    })


# What each kind of history event is called on the instance page.
HISTORY_LABELS = {
    HistoryEvent.STARTED: gettext_lazy("Started"),
    HistoryEvent.TASK_READY: gettext_lazy("Task waiting"),
    HistoryEvent.TASK_COMPLETED: gettext_lazy("Task done"),
    HistoryEvent.TASK_CLAIMED: gettext_lazy("Task claimed"),
    HistoryEvent.SERVICE_ATTEMPT: gettext_lazy("Call made"),
    HistoryEvent.SERVICE_RESULT: gettext_lazy("Call answered"),
    HistoryEvent.SERVICE_ERROR: gettext_lazy("Call failed"),
    HistoryEvent.INCIDENT: gettext_lazy("Incident"),
    HistoryEvent.INCIDENT_RETRIED: gettext_lazy("Incident retried"),
    HistoryEvent.RETRY_FAILED: gettext_lazy("Retry failed"),
    HistoryEvent.INCIDENT_RESOLVED: gettext_lazy("Incident closed"),
    HistoryEvent.SUSPENDED: gettext_lazy("Suspended"),
    HistoryEvent.RESUMED: gettext_lazy("Resumed"),
    HistoryEvent.VARIABLES_CHANGED: gettext_lazy("Variables changed"),
    HistoryEvent.TOKENS_MOVED: gettext_lazy("Token moved"),
    HistoryEvent.MIGRATED: gettext_lazy("Migrated"),
    HistoryEvent.TIMER_FIRED: gettext_lazy("Timer fired"),
    HistoryEvent.MESSAGE: gettext_lazy("Message received"),
    HistoryEvent.MESSAGE_SENT: gettext_lazy("Message sent"),
    HistoryEvent.SIGNAL: gettext_lazy("Signal received"),
    HistoryEvent.SIGNAL_SENT: gettext_lazy("Signal sent"),
    HistoryEvent.CANCELLED: gettext_lazy("Cancelled"),
    HistoryEvent.COMPLETED: gettext_lazy("Ended"),
    HistoryEvent.FAILED: gettext_lazy("Failed"),
}


def _fields_of(path: str, value) -> list[tuple[str, str]]:
    """A variable as (path, readable value) rows: a record's fields each on a row of its own (`customer.name`)."""
    if isinstance(value, dict) and value:
        return [row for key, inner in value.items() for row in _fields_of(f"{path}.{key}", inner)]
    return [(path, _readable(value))]


def _readable(value) -> str:
    """A variable's value as one line: text as it is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


@login_required
@require_POST
@permission_required("engine.change_processinstance", raise_exception=True)
def cancel(request, pk: int):
    instance = get_object_or_404(instances_for_user(request.user), pk=pk)
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        runtime.cancel_instance(instance, request.user, reason)
        messages.success(request, _("Instance cancelled"))
    except runtime.InstanceNotActive as exc:
        messages.error(request, str(exc))
    return redirect("processes:instance", pk)


@login_required
@require_POST
@permission_required("engine.change_processinstance", raise_exception=True)
def suspend(request, pk: int):
    """Hold the instance, with the reason typed beside the button."""
    return _hold_or_go_on(request, pk, repairs.suspend_instance, _("Instance suspended"))


@login_required
@require_POST
@permission_required("engine.change_processinstance", raise_exception=True)
def resume(request, pk: int):
    return _hold_or_go_on(request, pk, repairs.resume_instance, _("Instance resumed"))


@login_required
@require_POST
@permission_required("engine.change_processinstance", raise_exception=True)
def move_erp_along(request, pk: int):
    """Do one step in the local ERP for this instance (demo): the ERP watcher then moves the instance."""
    if not settings.LANEBRIDGE["ERP_ADVANCE"]:
        raise Http404("Moving the ERP along is off here")
    instance = get_object_or_404(instances_for_user(request.user), pk=pk)
    step = request.POST.get("step", "")
    try:
        result = erp_advance.advance(instance, step)
    except erp_advance.AdvanceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, erp_advance.done_text(step, result) + " " + _(
            "The ERP watcher's next pass (every %(seconds)s s) moves this instance on: refresh this page.") % {
            "seconds": f"{settings.LANEBRIDGE['WATCH_SECONDS']:g}"})
    return redirect("processes:instance", pk)


def _hold_or_go_on(request, pk: int, action, done: str):
    instance = get_object_or_404(instances_for_user(request.user), pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
        return redirect("processes:instance", pk)
    try:
        action(instance, request.user, form.cleaned_data["reason"])
        messages.success(request, done)
    except (runtime.InstanceNotActive, runtime.Conflict) as exc:
        messages.error(request, str(exc))
    return redirect("processes:instance", pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("engine.change_processinstance", raise_exception=True)
def edit_variables(request, pk: int):
    """Change, add or remove variables of a running instance: name/value rows, with a reason."""
    instance = get_object_or_404(instances_for_user(request.user), pk=pk)
    names = sorted(instance.variables)
    form = EditVariablesForm(request.POST or None, names=names, initial={"seen": instance.version})
    if request.method == "POST" and form.is_valid():
        try:
            repairs.edit_variables(instance, request.user, form.changes(instance.variables),
                                   form.cleaned_data["unset"], form.cleaned_data["reason"],
                                   seen_version=form.cleaned_data["seen"])
        except runtime.InvalidVariables as exc:
            form.add_error(None, str(exc))
        except (runtime.InstanceNotActive, runtime.Conflict) as exc:
            messages.error(request, str(exc))
            return redirect("processes:instance", pk)
        else:
            messages.success(request, _("Variables saved"))
            return redirect("processes:instance", pk)
    variables = [row for name in names for row in _fields_of(name, instance.variables[name])]
    return render(request, "processes/edit_variables.html", {"instance": instance, "form": form,
                                                            "variables": variables},
                  status=400 if form.errors else 200)


# --- Moving tokens ---

def _element_label(element_id: str, name: str) -> str:
    return element_id if name == element_id else f"{name} ({element_id})"


def _move_token_form(instance: ProcessInstance, data=None) -> MoveTokenForm:
    elements = modify.element_choices(instance.definition)
    names = dict(elements)
    return MoveTokenForm(
        data, auto_id="move-%s", initial={"seen": instance.version},
        elements=[(i, _element_label(i, name)) for i, name in elements],
        tokens=[(i, _element_label(i, names.get(i, i))) for i in modify.token_elements(instance)])


def _move_token_context(instance: ProcessInstance, can_operate: bool) -> dict:
    """The instance page's "Move token" form, for operators of an active instance."""
    if not can_operate or instance.state != ProcessInstance.ACTIVE:
        return {"move_form": None}
    return {"move_form": _move_token_form(instance)}


@login_required
@require_POST
@permission_required("engine.change_processinstance", raise_exception=True)
def move_token(request, pk: int):
    """Cancel the tokens picked on the diagram (or in the list) and start one before the element picked."""
    instance = get_object_or_404(instances_for_user(request.user), pk=pk)
    form = _move_token_form(instance, request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("processes:instance", pk)
    data = form.cleaned_data
    start = [data["start_before"]] if data["start_before"] else []
    try:
        modify.modify_instance(instance, request.user, data["cancel"], start, data["reason"],
                               seen_version=data["seen"])
    except (modify.ModifyError, runtime.InstanceNotActive, runtime.Conflict) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Token moved"))
    return redirect("processes:instance", pk)


@login_required
@require_safe
def incidents(request):
    """Open incidents first, filtered by process and element: retry many at once, or open one to skip or cancel."""
    process = request.GET.get("process", "").strip()
    element = request.GET.get("element", "").strip()
    rows = incidents_for_user(request.user)
    if process:
        rows = rows.filter(instance__definition__process_id=process)
    if element:
        rows = rows.filter(element_id=element)
    page = Paginator(rows.order_by("state", "-id"), 50).get_page(request.GET.get("page"))
    processes = ProcessDefinition.objects.values_list("process_id", flat=True).distinct().order_by("process_id")
    elements = incidents_for_user(request.user).filter(state=Incident.OPEN).exclude(element_id="").values_list(
        "element_id", flat=True).distinct().order_by("element_id")
    return render(request, "processes/incidents.html", {
        "page": page, "can_retry": request.user.has_perm("engine.change_incident"), "process": process,
        "element": element, "processes": processes, "elements": elements,
        "action_form": _incidents_action_form(process, element)})


def _incidents_action_form(process: str, element: str, data=None) -> IncidentsActionForm:
    """The batch form; filtered to one process and element, its rows are that call's result variable fields."""
    definition = ProcessDefinition.objects.filter(process_id=process).order_by("-version").first() if (
        process and element) else None
    variable, fields = repairs.skip_output(definition, element) if definition else ("", [])
    return IncidentsActionForm(data, result_variable=variable, fields=fields)


@login_required
@require_safe
def incident(request, pk: int):
    """One incident: its error and input, and the forms to retry, skip or cancel."""
    incident = get_object_or_404(incidents_for_user(request.user).select_related("job", "resolved_by"), pk=pk)
    return render(request, "processes/incident.html", {
        "incident": incident, "can_retry": request.user.has_perm("engine.change_incident"),
        "retry_form": RetryForm(), "resolve_form": _resolve_form(incident),
        "history": incident.instance.history.filter(data__incident=incident.pk).select_related("user").order_by("id"),
    })


def _say_retry_outcome(request, incident: Incident) -> None:
    if incident.state == Incident.RESOLVED:
        messages.success(request, _("Incident %(id)s: the call succeeded; the incident is resolved.")
                         % {"id": incident.pk})
    elif Job.objects.filter(pk=incident.job_id, state=Job.FAILED).exists():
        messages.error(request, _("Incident %(id)s: the call failed again: %(error)s")
                       % {"id": incident.pk, "error": incident.message})
    else:
        messages.info(request, _("Incident %(id)s: the call is being retried; the incident stays open until it "
                                 "succeeds.") % {"id": incident.pk})


@login_required
@require_POST
@permission_required("engine.change_incident", raise_exception=True)
def retry_incident(request, pk: int):
    incident = get_object_or_404(incidents_for_user(request.user), pk=pk)
    form = RetryForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        _say_retry_outcome(request, jobs.retry_incident(incident, request.user, reason))
    except ValueError as exc:
        messages.error(request, str(exc))
    return _back(request, incident)


@login_required
@require_POST
@permission_required("engine.change_incident", raise_exception=True)
def retry_incidents(request):
    """Retry, skip or cancel the incidents ticked on the incidents page, and say what came of each."""
    process, element = request.POST.get("process", "").strip(), request.POST.get("element", "").strip()
    form = _incidents_action_form(process, element, request.POST)
    back = redirect(f"{reverse('processes:incidents')}?{urlencode({'process': process, 'element': element})}")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return back
    ids = [int(i) for i in request.POST.getlist("ids") if i.isascii() and i.isdigit() and len(i) < 18]
    if not ids:
        messages.error(request, _("Tick the incidents to retry."))
    chosen = filter_incidents(incidents_for_user(request.user), ids=ids).order_by("id")[:500] if ids else []
    action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
    for incident in chosen:
        try:
            if action == "retry":
                _say_retry_outcome(request, jobs.retry_incident(incident, request.user, reason))
            else:
                repairs.resolve_incident(incident, action, request.user, reason, form.values())
                messages.success(request, (_("Incident %(id)s: step skipped; the instance goes on.") if action == "skip"
                                           else _("Incident %(id)s: instance cancelled; the incident is closed."))
                                 % {"id": incident.pk})
        except (ValueError, runtime.Conflict) as exc:
            messages.error(request, _("Incident %(id)s: %(error)s") % {"id": incident.pk, "error": exc})
    return back


@login_required
@require_POST
@permission_required("engine.change_incident", raise_exception=True)
def resolve_incident(request, pk: int):
    """Skip the failed step with the variables typed in the form, or cancel the instance."""
    incident = get_object_or_404(incidents_for_user(request.user), pk=pk)
    form = _resolve_form(incident, request.POST)
    if not form.is_valid():
        return render(request, "processes/incident.html", {
            "incident": incident, "can_retry": True, "retry_form": RetryForm(), "resolve_form": form,
            "history": []}, status=400)
    try:
        repairs.resolve_incident(incident, form.cleaned_data["action"], request.user, form.cleaned_data["comment"],
                                 form.values())
    except (ValueError, runtime.Conflict) as exc:
        messages.error(request, str(exc))
        return redirect("processes:incident", pk)
    if form.cleaned_data["action"] == repairs.SKIP:
        messages.success(request, _("Step skipped; the instance goes on."))
    else:
        messages.success(request, _("Instance cancelled; the incident is closed."))
    return redirect("processes:instance", incident.instance_id)


def _resolve_form(incident: Incident, data=None) -> ResolveForm:
    """The skip-or-cancel form; its rows are the fields of the failed call's result variable."""
    variable, fields = repairs.skip_output(incident.instance.definition, incident.element_id)
    return ResolveForm(data, result_variable=variable, fields=fields)


def _back(request, incident: Incident):
    if request.POST.get("next") == "incidents":
        return redirect("processes:incidents")
    if request.POST.get("next") == "incident":
        return redirect("processes:incident", incident.pk)
    return redirect("processes:instance", incident.instance_id)

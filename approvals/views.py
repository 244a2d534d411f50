"""The approver's pages: inbox, task page (claim, delegate, complete) and the start page.

Plain forms with POST/redirect; htmx (hx-boost in base.html) only makes them feel faster.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import i18n
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from approvals import absences, orders, permissions, services
from approvals.forms import AbsenceForm, DelegateForm, StartForm, start_form_fields, task_form
from approvals.models import Absence, OrderNotice, UserPreference
from approvals.options import OptionsUnavailable, load_options, options_operation
from engine import runtime
from engine.models import HistoryEvent, HumanTask, Incident, ProcessDefinition, ProcessInstance
from monitoring.elements import elements_of, names
from processes.views import diagram_markers

PAGE_SIZE = 25
SORTS = {
    "due": [F("due_at").asc(nulls_last=True), "created_at"],
    "priority": ["-priority", F("due_at").asc(nulls_last=True), "created_at"],
    "age": ["created_at"],
    # Largest first: the orders that matter most; tasks without an amount last.
    "amount": [F("amount").desc(nulls_last=True), "created_at"],
    # A to Z, tasks without a customer last.
    "customer": [ExpressionWrapper(Q(customer=""), output_field=BooleanField()).asc(), "customer", "created_at"],
}


def forbidden(request: HttpRequest) -> HttpResponse:
    """The 403 page: says nothing about the object asked for."""
    return render(request, "approvals/forbidden.html", status=403)


def conflict(request: HttpRequest, task: HumanTask, message: str) -> HttpResponse:
    """The 409 page for a task that changed under the user (completed, claimed by someone else)."""
    return render(request, "approvals/conflict.html", {"task": task, "message": message}, status=409)


@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    """Open tasks assigned to me, waiting unclaimed in my roles' queue, or of colleagues I stand in for."""
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "due"
    process = request.GET.get("process", "")

    user = request.user
    open_tasks = HumanTask.objects.filter(state=HumanTask.OPEN)
    if process:
        open_tasks = open_tasks.filter(instance__definition__process_id=process)
    tabs = {
        "mine": Q(assignee=user),
        "queue": Q(assignee__isnull=True, pk__in=permissions.own_tasks(user).values("pk")),
    }
    standing_in = list(permissions.standing_in_for(user))
    if standing_in:
        tabs["standin"] = Q(pk__in=permissions.covered_tasks(standing_in).values("pk"))
    # One query counts every tab.
    counts = open_tasks.aggregate(**{name: Count("pk", filter=where) for name, where in tabs.items()})
    tab = request.GET.get("tab")
    if tab not in counts:
        # Land where the work is: my own tasks first, then the queue, then my absent colleagues'.
        tab = next((name for name, count in counts.items() if count), "mine")
    tasks = open_tasks.filter(tabs[tab]).select_related("instance__definition", "assignee")
    page = Paginator(tasks.order_by(*SORTS[sort]), PAGE_SIZE).get_page(request.GET.get("page"))
    if tab == "standin":
        _mark_absent_colleagues(page.object_list, standing_in)
    context = {
        "tab": tab,
        "sort": sort,
        "process": process,
        "processes": ProcessDefinition.objects.order_by("process_id").values_list("process_id", flat=True).distinct(),
        "counts": counts,
        "standing_in": standing_in,
        "page": page,
        "now": timezone.now(),
        "notices": OrderNotice.objects.filter(user=request.user, dismissed_at=None)
        .select_related("instance__definition")[:20],
    }
    return render(request, "approvals/inbox.html", context)


def _mark_absent_colleagues(tasks, absent_users: list) -> None:
    """Set each task's `absent_colleague`: whose task the substitute works on."""
    ids = [task.pk for task in tasks]
    whose = {}
    for absent in absent_users:
        for pk in permissions.covered_tasks([absent]).filter(pk__in=ids).values_list("pk", flat=True):
            whose.setdefault(pk, absent)
    for task in tasks:
        task.absent_colleague = whose.get(task.pk)


@login_required
@require_POST
def dismiss_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a notice about one of my orders off my inbox."""
    OrderNotice.objects.filter(pk=pk, user=request.user, dismissed_at=None).update(dismissed_at=timezone.now())
    return redirect("approvals:inbox")


HISTORY_LABELS = {
    HistoryEvent.STARTED: gettext_lazy("Started"),
    HistoryEvent.TASK_READY: gettext_lazy("Task waiting"),
    HistoryEvent.TASK_CLAIMED: gettext_lazy("Task claimed"),
    HistoryEvent.TASK_COMPLETED: gettext_lazy("Task completed"),
    HistoryEvent.SERVICE_ATTEMPT: gettext_lazy("System call"),
    HistoryEvent.SERVICE_RESULT: gettext_lazy("System call answered"),
    HistoryEvent.SERVICE_ERROR: gettext_lazy("System call failed"),
    HistoryEvent.INCIDENT: gettext_lazy("Incident"),
    HistoryEvent.INCIDENT_RETRIED: gettext_lazy("Incident retried"),
    HistoryEvent.TIMER_FIRED: gettext_lazy("Timer fired"),
    HistoryEvent.MESSAGE: gettext_lazy("Message received"),
    HistoryEvent.MESSAGE_SENT: gettext_lazy("Message sent"),
    HistoryEvent.SIGNAL: gettext_lazy("Signal received"),
    HistoryEvent.SIGNAL_SENT: gettext_lazy("Signal sent"),
    HistoryEvent.CANCELLED: gettext_lazy("Cancelled"),
    HistoryEvent.COMPLETED: gettext_lazy("Completed"),
    HistoryEvent.FAILED: gettext_lazy("Failed"),
}


def _show(value) -> str:
    """A variable as text: scalars as they are, the rest as compact JSON."""
    if value is None:
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _history(instance: ProcessInstance) -> list[dict]:
    rows = []
    # Calls are recorded by element id only: the diagram names them.
    element_names = names(elements_of(instance.definition))
    for event in instance.history.select_related("user").order_by("id"):
        details = ""
        if event.kind == HistoryEvent.TASK_COMPLETED:
            details = ", ".join(f"{k}: {_show(v)}" for k, v in (event.data.get("data") or {}).items())
        elif event.kind == HistoryEvent.TASK_CLAIMED and event.data.get("delegated_to"):
            details = _("delegated to %(user)s") % {"user": event.data["delegated_to"]}
        elif event.kind in (HistoryEvent.SERVICE_ERROR, HistoryEvent.INCIDENT, HistoryEvent.FAILED):
            details = str(event.data.get("error", ""))
        rows.append({"at": event.at, "label": HISTORY_LABELS.get(event.kind, event.kind),
                     "element": event.element_name or element_names.get(event.element_id, event.element_id),
                     "user": event.user, "details": details, "on_behalf_of": event.data.get("on_behalf_of", "")})
    return rows


# What the quote's keys are called on the page; other keys show as they are.
QUOTE_LABELS = {
    "code": gettext_lazy("Code"), "name": gettext_lazy("Name"), "phone": gettext_lazy("Phone"),
    "street": gettext_lazy("Street"), "city": gettext_lazy("City"), "zip": gettext_lazy("Postal code"),
    "country": gettext_lazy("Country"), "product": gettext_lazy("Product"), "quantity": gettext_lazy("Quantity"),
    "unit_price": gettext_lazy("Unit price"),
}


def _quote(data: dict) -> dict:
    """The customer, lines and total of a quote's data, ready for the page; the other variables apart."""
    lines = [line for line in data["lines"] if isinstance(line, dict)] if isinstance(data.get("lines"), list) else []
    quote = bool(lines) or "customer" in data
    columns = _columns(lines)
    customer = data.get("customer")
    return {
        "quote": quote,
        "customer": [(QUOTE_LABELS.get(k, k), _show(v)) for k, v in customer.items()]
        if isinstance(customer, dict) else customer,
        "customer_is_dict": isinstance(customer, dict),
        "line_columns": columns,
        "line_headers": [QUOTE_LABELS.get(c, c) for c in columns],
        "line_rows": [[_show(line.get(c)) for c in columns] for line in lines],
        "total": data.get("total"),
        "variables": [(k, _show(v)) for k, v in sorted(data.items())
                      if not (quote and k in ("customer", "lines", "total")) and not k.startswith("_")],
    }


def _task_context(request: HttpRequest, task: HumanTask, form=None, delegate_form=None) -> dict:
    candidates = permissions.candidate_users(task).exclude(pk=request.user.pk)
    return {
        "task": task,
        "instance": task.instance,
        "may_act": task.state == HumanTask.OPEN and permissions.can_act(request.user, task),
        # Whose substitute the user is here, if they act for an absent colleague.
        "acting_for": permissions.acting_for(request.user, task) if task.state == HumanTask.OPEN else None,
        **_quote(task.data or {}),
        "history": _history(task.instance),
        "form": form if form is not None else task_form(task, options_url=_task_options_url(task)),
        "has_fields": bool((task.form or {}).get("fields")),
        "delegate_form": delegate_form if delegate_form is not None else DelegateForm(candidates),
        "now": timezone.now(),
    }


def _task_options_url(task: HumanTask):
    """The URL of a task form's picker options, per field."""
    return lambda field: reverse("approvals:task_options", args=[task.pk, field])


def _columns(lines: list) -> list[str]:
    columns: list[str] = []
    for line in lines:
        if isinstance(line, dict):
            columns.extend(key for key in line if key not in columns)
    return columns


def _load(request: HttpRequest, pk: int) -> HumanTask | None:
    """The task if the user may see it, else None (the caller answers 403)."""
    task = get_object_or_404(HumanTask.objects.select_related("instance__definition", "assignee"), pk=pk)
    return task if permissions.can_view(request.user, task) else None


@login_required
@require_safe
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything the approver needs to decide, and the form to do it."""
    task = _load(request, pk)
    if task is None:
        return forbidden(request)
    return render(request, "approvals/task.html", _task_context(request, task))


@login_required
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit the task's form; errors re-render the page with what was typed."""
    task = _load(request, pk)
    if task is None:
        return forbidden(request)
    if task.state != HumanTask.OPEN:
        return conflict(request, task, _("This task is already completed."))
    if (task.form or {}).get("fields"):
        form = task_form(task, request.POST, options_url=_task_options_url(task))
        if not form.is_valid():
            return render(request, "approvals/task.html", _task_context(request, task, form=form), status=400)
        data, checked = {}, form
    else:
        # No form in the diagram: approve or reject, with a comment.
        form, checked = task_form(task), None
        data = {"approved": request.POST.get("decision") == "approve", "comment": request.POST.get("comment", "")}
    try:
        services.complete_task(task, request.user, data, form=checked)
    except services.NotAllowed:
        return forbidden(request)
    except runtime.TaskMigrated:
        return conflict(request, task, _("This case moved to another version of its process while you worked on "
                                         "it. Open the task again."))
    except runtime.TaskNotOpen:
        return conflict(request, task, _("This task is already completed."))
    except runtime.InstanceSuspended:
        return conflict(request, task, _("This case is suspended. It can be completed once an operator resumes it."))
    except runtime.Conflict:
        return conflict(request, task, _("Someone else changed this case at the same moment. Please try again."))
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return render(request, "approvals/task.html", _task_context(request, task, form=form), status=400)
    messages.success(request, _("“%(name)s” is done.") % {"name": task.name})
    return redirect("approvals:inbox")


@login_required
@require_POST
def task_claim(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a task from the role's queue."""
    task = _load(request, pk)
    if task is None:
        return forbidden(request)
    try:
        services.claim_task(task, request.user)
    except services.NotAllowed:
        return forbidden(request)
    except runtime.TaskNotOpen:
        return conflict(request, task, _("This task is already completed."))
    except runtime.Conflict:
        return conflict(request, task, _("Someone else claimed this task first."))
    messages.success(request, _("The task is yours now."))
    return redirect("approvals:task", pk=task.pk)


@login_required
@require_POST
def task_unclaim(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a task back to the role's queue."""
    task = _load(request, pk)
    if task is None:
        return forbidden(request)
    try:
        services.unclaim_task(task, request.user)
    except services.NotAllowed:
        return forbidden(request)
    messages.success(request, _("The task is back in the queue."))
    return redirect("approvals:task", pk=task.pk)


@login_required
@require_POST
def task_delegate(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand a task to another member of its role."""
    task = _load(request, pk)
    if task is None:
        return forbidden(request)
    if task.state != HumanTask.OPEN:
        return conflict(request, task, _("This task is already completed."))
    form = DelegateForm(permissions.candidate_users(task).exclude(pk=request.user.pk), request.POST)
    if form.is_valid():
        try:
            services.delegate_task(task, request.user, form.cleaned_data["to_user"])
        except services.NotAllowed as exc:
            if not permissions.can_act(request.user, task):
                return forbidden(request)
            form.add_error("to_user", str(exc))
        else:
            messages.success(request, _("Delegated to %(user)s.") % {"user": form.cleaned_data["to_user"]})
            return redirect("approvals:inbox")
    return render(request, "approvals/task.html", _task_context(request, task, delegate_form=form), status=400)


@login_required
@require_safe
def start_list(request: HttpRequest) -> HttpResponse:
    """The processes the user may start."""
    return render(request, "approvals/start_list.html",
                  {"definitions": permissions.startable_definitions(request.user)})


def _start_definition(request: HttpRequest, process_id: str) -> ProcessDefinition | None:
    """The latest version of the process if the user may start it, else None (the caller answers 403)."""
    definition = ProcessDefinition.objects.filter(process_id=process_id).order_by("-version").first()
    return definition if definition is not None and permissions.can_start(request.user, definition) else None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def start_process(request: HttpRequest, process_id: str) -> HttpResponse:
    """Start the latest version of a process with a business key and its start form; then show the order."""
    definition = _start_definition(request, process_id)
    if definition is None:
        return forbidden(request)
    form = StartForm(start_form_fields(definition), request.POST or None,
                     options_url=lambda field: reverse("approvals:start_options", args=[process_id, field]))
    if request.method == "POST" and form.is_valid():
        try:
            instance, _created = runtime.start_instance(
                definition.process_id, form.variables(), business_key=form.cleaned_data["business_key"],
                user=request.user)
        except runtime.InvalidVariables as exc:
            form.add_error(None, str(exc))
        else:
            # Its first steps may already have run: say how far it got, not just "started".
            level, sentence = orders.start_report(instance)
            getattr(messages, level)(request, sentence)
            return redirect("approvals:order", pk=instance.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "approvals/start_form.html", {"definition": definition, "form": form}, status=status)


@login_required
@require_safe
def start_options(request: HttpRequest, process_id: str, field: str) -> JsonResponse:
    """The choices of one picker of a start form, from the read-only operation the diagram names."""
    definition = _start_definition(request, process_id)
    if definition is None:
        return JsonResponse({"error": _("You may not start this process.")}, status=403)
    return _options(start_form_fields(definition), field)


@login_required
@require_safe
def task_options(request: HttpRequest, pk: int, field: str) -> JsonResponse:
    """The choices of one picker of a task's form, for those who may see the task."""
    task = _load(request, pk)
    if task is None:
        return JsonResponse({"error": _("You may not see this task.")}, status=403)
    return _options((task.form or {}).get("fields") or [], field)


def _options(fields: list[dict], field: str) -> JsonResponse:
    """The choices of the picker `field` among a form's fields, from the read-only operation the diagram names."""
    spec = next((f for f in fields if f["id"] == field and options_operation(f)), None)
    if spec is None:
        return JsonResponse({"error": _("The form has no list called “%(field)s”.") % {"field": field}},
                            status=404)
    try:
        options = load_options(options_operation(spec))
    except OptionsUnavailable as exc:
        # The other system is down or the name is wrong: the page says so beside the field.
        return JsonResponse({"error": str(exc)}, status=502)
    return JsonResponse({"options": options})


@login_required
@require_safe
def my_orders(request: HttpRequest) -> HttpResponse:
    """The orders I started or acted on, newest first."""
    page = Paginator(orders.orders_for_user(request.user).order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "approvals/orders.html", {"page": page})


@login_required
@require_safe
def order(request: HttpRequest, pk: int) -> HttpResponse:
    """One order, read-only, for the people who started or worked on it: state, current step, history, diagram."""
    instance = get_object_or_404(ProcessInstance.objects.select_related("definition", "started_by"), pk=pk)
    if not orders.can_follow(request.user, instance):
        return forbidden(request)
    history = list(instance.history.order_by("id"))
    incidents = list(instance.incidents.order_by("id"))
    tasks = list(instance.human_tasks.order_by("id"))
    jobs = list(instance.jobs.order_by("id"))
    return render(request, "approvals/order.html", {
        "instance": instance,
        "definition": instance.definition,
        "state_label": STATE_LABELS.get(instance.state, instance.state),
        "steps": orders.current_steps(instance),
        "open_incidents": [i for i in incidents if i.state == Incident.OPEN],
        "markers": diagram_markers(tasks, jobs, incidents, history),
        "history": _history(instance),
        **_quote(instance.variables or {}),
    })


STATE_LABELS = {
    ProcessInstance.ACTIVE: gettext_lazy("In progress"),
    ProcessInstance.SUSPENDED: gettext_lazy("On hold"),
    ProcessInstance.COMPLETED: gettext_lazy("Ended"),
    ProcessInstance.CANCELLED: gettext_lazy("Cancelled"),
    ProcessInstance.FAILED: gettext_lazy("Failed"),
}


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch language: for this browser (Django's cookie) and, when logged in, for the user everywhere."""
    # Django's view sets the cookie and checks that `next` is a safe URL.
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        UserPreference.objects.update_or_create(user=request.user, defaults={"language": language})
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def away(request: HttpRequest) -> HttpResponse:
    """My absences and who stands in for me; a form to add one; whom I stand in for."""
    choices = absences.substitute_choices(request.user)
    form = AbsenceForm(choices, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            absence = absences.add_absence(request.user, data["substitute"], data["starts_on"], data["ends_on"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("%(user)s stands in for you from %(first)s to %(last)s.") % {
                "user": absence.substitute, "first": absence.starts_on, "last": absence.ends_on})
            return redirect("approvals:away")
    return render(request, "approvals/away.html", {
        "form": form,
        "has_choices": choices.exists(),
        "mine": absences.current_and_coming(Absence.objects.filter(user=request.user)),
        "standing_in": absences.current_and_coming(Absence.objects.filter(substitute=request.user)),
        "today": permissions.today(),
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def away_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End one of my absences now: my substitute stops acting for me."""
    absence = Absence.objects.filter(pk=pk, user=request.user).first()
    if absence is None:
        return forbidden(request)
    absences.end_absence(absence)
    messages.success(request, _("You are back: %(user)s no longer stands in for you.") % {"user": absence.substitute})
    return redirect("approvals:away")

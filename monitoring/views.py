"""Monitoring pages and the Prometheus endpoint."""

from __future__ import annotations

import hmac
from datetime import date, datetime
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from engine.models import ProcessDefinition, ProcessInstance
from monitoring import dashboard, exports, reports, tables
from monitoring import metrics as metrics_module
from monitoring.access import can_monitor
from monitoring.models import Alert


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics behind `Authorization: Bearer <LANEBRIDGE_METRICS_TOKEN>`; 404 when no token is set."""
    token = settings.LANEBRIDGE_METRICS_TOKEN
    if not token:
        # Off unless configured: an endpoint without a secret would show every process to anyone.
        raise Http404("Metrics are off: set LANEBRIDGE_METRICS_TOKEN")
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        response = HttpResponse("Send Authorization: Bearer <token>\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return HttpResponse("Wrong token\n", status=403, content_type="text/plain")
    return HttpResponse(metrics_module.render(), content_type=CONTENT_TYPE_LATEST)


def monitor_page(view):
    """Pages for users who may monitor: others see the 403 page."""

    @login_required
    @require_safe
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_monitor(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@monitor_page
def monitor(request: HttpRequest) -> HttpResponse:
    """The dashboard: tiles, per-process funnels, trends, bottlenecks and incidents, refreshed live."""
    labels = {"started": _("Started"), "completed": _("Completed"), "lead": _("Lead time (hours)"),
              "waiting": _("Waiting"), "incidents": _("Incidents")}
    return render(request, "monitoring/monitor.html", {"data": dashboard.summary(), "chart_labels": labels})


@monitor_page
def monitor_data(request: HttpRequest) -> JsonResponse:
    """The dashboard's figures as JSON, for its live refresh."""
    return JsonResponse(dashboard.summary())


@monitor_page
def process_monitor(request: HttpRequest, process_id: str) -> HttpResponse:
    """The diagram of a process's newest version with a heat overlay per element."""
    try:
        definition = reports.definitions_of(process_id)[0]
    except reports.UnknownProcess:
        raise Http404(f"No process {process_id!r}") from None
    return render(request, "monitoring/process_monitor.html", {
        "definition": definition, "statistics": reports.statistics(process_id)})


def _month_default() -> str:
    return timezone.localdate().strftime("%Y-%m")


@monitor_page
def reports_page(request: HttpRequest) -> HttpResponse:
    """The stage, exception and bottleneck reports with filters, and links to their CSV/XLSX downloads."""
    tab = request.GET.get("tab", "stages")
    processes = list(ProcessDefinition.objects.values_list("process_id", flat=True).distinct().order_by(
        "process_id"))
    process = request.GET.get("process") or (processes[0] if processes else "")
    context = {"tab": tab, "processes": processes, "process": process, "error": "",
               "states": [s for s, _label in ProcessInstance.STATES], "query": request.GET.urlencode()}
    try:
        if tab == "exceptions":
            month = request.GET.get("month") or _month_default()
            context.update(month=month, report=reports.exceptions(month))
        elif tab == "bottlenecks" and process:
            context["report"] = reports.bottlenecks(process)
        elif process:
            date_from, date_to = _date(request.GET.get("from")), _date(request.GET.get("to"))
            state = request.GET.get("state", "")
            rows, steps, kinds, total = reports.stage_page(
                process, date_from, date_to, state if state in dict(ProcessInstance.STATES) else "",
                newest=STAGE_ROWS_SHOWN)
            headers, table = tables.stage_table(rows, steps, kinds)
            table = [[row[0], *(_shown(value) for value in row[1:])] for row in table]
            context.update(headers=headers, table=table, total=total, shown=len(rows),
                           date_from=request.GET.get("from", ""), date_to=request.GET.get("to", ""), state=state)
    except (ValueError, reports.UnknownProcess) as exc:
        context["error"] = str(exc)
    return render(request, "monitoring/reports.html", context)


STAGE_ROWS_SHOWN = 200


def _shown(value) -> str:
    value = exports.cell(value)
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("Dates are written YYYY-MM-DD, not %(value)s") % {"value": value[:40]}) from None


@monitor_page
def alerts_page(request: HttpRequest) -> HttpResponse:
    """The alerts sent, newest first, with their counts and where each went."""
    page = Paginator(Alert.objects.order_by("-last_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "monitoring/alerts.html", {"page": page, "kinds": dict(Alert.KINDS)})

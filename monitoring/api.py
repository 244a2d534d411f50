"""REST API of monitoring: statistics per element, the three reports, alerts. Thin views over monitoring.reports."""

from __future__ import annotations

from datetime import date

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import TokenScopes
from engine.models import ProcessInstance
from monitoring import exports, reports, tables
from monitoring.access import CanMonitor
from monitoring.models import Alert


class IgnoreFormatParameter(DefaultContentNegotiation):
    """`?format=csv` picks the report's download, not a DRF renderer (which would answer 404)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return super().select_renderer(request, renderers, format_suffix="json")


class MonitoringView(APIView):
    permission_classes = [IsAuthenticated, TokenScopes, CanMonitor]
    content_negotiation_class = IgnoreFormatParameter


def _param(request, name: str, required: bool = False) -> str:
    value = request.query_params.get(name, "").strip()
    if "\x00" in value:
        raise ValidationError({name: "must not contain NUL characters"})
    if required and not value:
        raise ValidationError({name: "is required"})
    return value


def _date(request, name: str) -> date | None:
    value = _param(request, name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: f"must be a date written YYYY-MM-DD, not {value[:40]!r}"}) from None


def _format(request) -> str:
    fmt = _param(request, "format") or "json"
    if fmt not in exports.FORMATS:
        raise ValidationError({"format": f"must be one of {', '.join(exports.FORMATS)}, not {fmt[:20]!r}"})
    return fmt


class Statistics(MonitoringView):
    """Per element: tokens waiting now, open incidents, completed passes and their mean and p90 seconds."""

    @extend_schema(parameters=[OpenApiParameter("version", int)], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, process_id):
        version = _param(request, "version")
        if version and not (version.isascii() and version.isdigit() and len(version) < 10):
            raise ValidationError({"version": f"must be a whole number, not {version[:20]!r}"})
        try:
            return Response(reports.statistics(process_id, int(version) if version else None))
        except reports.UnknownProcess as exc:
            raise NotFound(str(exc)) from None


DOWNLOADS = {(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR,
             (200, exports.XLSX_TYPE): OpenApiTypes.BINARY}
FORMAT = OpenApiParameter("format", str, enum=list(exports.FORMATS))


class StageReport(MonitoringView):
    """One row per instance of a process: state, outcome, current steps, ledger numbers, when each step was done."""

    @extend_schema(parameters=[
        OpenApiParameter("process", str, required=True), OpenApiParameter("from", OpenApiTypes.DATE),
        OpenApiParameter("to", OpenApiTypes.DATE), OpenApiParameter("state", str, enum=list(dict(
            ProcessInstance.STATES))), FORMAT], responses=DOWNLOADS)
    def get(self, request):
        process = _param(request, "process", required=True)
        state = _param(request, "state")
        if state and state not in dict(ProcessInstance.STATES):
            raise ValidationError({"state": f"must be one of {', '.join(dict(ProcessInstance.STATES))}"})
        fmt = _format(request)
        date_from, date_to = _date(request, "from"), _date(request, "to")
        try:
            rows, steps, kinds = reports.stage_rows(process, date_from, date_to, state)
        except reports.UnknownProcess as exc:
            raise NotFound(str(exc)) from None
        if fmt == "json":
            return Response({"process_id": process, "count": len(rows), "results": rows})
        headers, table = tables.stage_table(rows, steps, kinds)
        return exports.download(fmt, f"stages-{process}", headers, table)


class ExceptionReport(MonitoringView):
    """The month's incidents, overdue tasks, failed and cancelled instances per process and element."""

    @extend_schema(parameters=[OpenApiParameter("month", str, required=True, description="YYYY-MM"), FORMAT],
                   responses=DOWNLOADS)
    def get(self, request):
        month = _param(request, "month", required=True)
        fmt = _format(request)
        try:
            report = reports.exceptions(month)
        except ValueError as exc:
            raise ValidationError({"month": f"{exc}, not {month[:20]!r}"}) from None
        if fmt == "json":
            return Response(report)
        headers, table = tables.exceptions_table(report)
        return exports.download(fmt, f"exceptions-{month}", headers, table)


class Bottlenecks(MonitoringView):
    """The elements of a process ranked by time spent there, slowest (p90) first."""

    @extend_schema(parameters=[OpenApiParameter("process", str, required=True)],
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        process = _param(request, "process", required=True)
        try:
            return Response(reports.bottlenecks(process))
        except reports.UnknownProcess as exc:
            raise NotFound(str(exc)) from None


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = ["id", "kind", "process_id", "element_id", "element_name", "count", "instance_ids", "detail",
                  "window_start", "first_at", "last_at", "sent_at", "sent_count", "channels"]


class AlertPagination(LimitOffsetPagination):
    max_limit = 500


class AlertList(generics.ListAPIView):
    """Recorded alerts, newest first: one per kind, process, element and window, with its count."""

    permission_classes = [IsAuthenticated, TokenScopes, CanMonitor]
    serializer_class = AlertSerializer
    pagination_class = AlertPagination
    queryset = Alert.objects.order_by("-last_at", "-id")

"""REST API v1: thin views over engine.runtime, engine.jobs and approvals.services."""

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals import services as approvals
from approvals.permissions import can_act, can_start, tasks_for_user
from engine import jobs, runtime
from engine.deploy import deploy
from engine.models import HumanTask, ProcessDefinition
from processes import serializers as s
from processes.services import incidents_for_user, instances_for_user


def require_perm(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(f"You need the permission {perm}")


class DefinitionList(generics.ListCreateAPIView):
    """Deployed process definitions; POST a BPMN file (multipart `file`) to deploy."""

    serializer_class = s.DefinitionSerializer
    parser_classes = [MultiPartParser, FormParser]
    queryset = ProcessDefinition.objects.order_by("process_id", "-version")

    @extend_schema(request=s.DefinitionUploadSerializer, responses={201: s.DefinitionSerializer})
    def post(self, request):
        require_perm(request, "engine.add_processdefinition")
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": "Upload the BPMN file in the multipart field 'file'"})
        limit = 5 * 1024 * 1024
        if upload.size > limit:
            return Response({"error": f"File is {upload.size} bytes; the limit is {limit} bytes (5 MB)",
                             "field": "file"}, status=status.HTTP_400_BAD_REQUEST)
        deployment = deploy(upload.read(), upload.name or "upload.bpmn", request.user)
        data = s.DefinitionSerializer(deployment.definitions[0], context={"request": request}).data
        data["deployed"] = [{"process_id": d.process_id, "version": d.version, "id": d.pk}
                            for d in deployment.definitions]
        data["created"] = deployment.created
        return Response(data, status=status.HTTP_201_CREATED if deployment.created else status.HTTP_200_OK)


class DefinitionDetail(generics.RetrieveAPIView):
    serializer_class = s.DefinitionSerializer
    queryset = ProcessDefinition.objects.all()


class DefinitionBpmn(APIView):
    """The BPMN file of a definition version, as deployed."""

    @extend_schema(responses={(200, "application/xml"): bytes})
    def get(self, request, pk):
        definition = get_object_or_404(ProcessDefinition, pk=pk)
        response = HttpResponse(definition.bpmn_xml, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{definition.process_id}-v{definition.version}.bpmn"'
        return response


class StartInstance(APIView):
    """Start the latest version of a process. Header Idempotency-Key: the same key returns the same instance."""

    @extend_schema(request=s.StartSerializer, responses={201: s.InstanceSerializer, 200: s.InstanceSerializer},
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)])
    def post(self, request, process_id):
        definition = runtime.latest_definition(process_id)
        if not can_start(request.user, definition):
            raise PermissionDenied(f"You may not start {process_id!r}")
        body = s.StartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key and len(key) > 255:
            raise ValidationError({"Idempotency-Key": "at most 255 characters"})
        instance, created = runtime.start_instance(
            process_id, body.validated_data["variables"], body.validated_data["business_key"],
            user=request.user, idempotency_key=key)
        instance.refresh_from_db()
        return Response(s.InstanceSerializer(instance).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class InstanceList(generics.ListAPIView):
    """Instances the caller may read; filters: state, process, business_key."""

    serializer_class = s.InstanceListSerializer

    @extend_schema(parameters=[OpenApiParameter("state", str), OpenApiParameter("process", str),
                               OpenApiParameter("business_key", str)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        instances = instances_for_user(self.request.user)
        params = self.request.query_params
        if params.get("state"):
            instances = instances.filter(state=params["state"])
        if params.get("process"):
            instances = instances.filter(definition__process_id=params["process"])
        if params.get("business_key"):
            instances = instances.filter(business_key=params["business_key"])
        return instances.order_by("-id")


class InstanceDetail(generics.RetrieveAPIView):
    serializer_class = s.InstanceSerializer

    def get_queryset(self):
        return instances_for_user(self.request.user)


class InstanceHistory(generics.ListAPIView):
    """The instance's history, oldest first."""

    serializer_class = s.HistorySerializer
    pagination_class = None

    def get_queryset(self):
        instance = get_object_or_404(instances_for_user(self.request.user), pk=self.kwargs["pk"])
        return instance.history.select_related("user").order_by("id")


class CancelInstance(APIView):
    @extend_schema(request=s.CancelSerializer, responses={200: s.InstanceSerializer})
    def post(self, request, pk):
        instance = get_object_or_404(instances_for_user(request.user), pk=pk)
        require_perm(request, "engine.change_processinstance")
        body = s.CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        instance = runtime.cancel_instance(instance, request.user, body.validated_data["reason"])
        return Response(s.InstanceSerializer(instance).data)


class TaskList(generics.ListAPIView):
    """Open tasks the caller may act on."""

    serializer_class = s.TaskSerializer

    def get_queryset(self):
        user = self.request.user
        return (tasks_for_user(user).filter(state=HumanTask.OPEN)
                .filter(Q(assignee__isnull=True) | Q(assignee=user))
                .select_related("instance__definition", "assignee").order_by("due_at", "id"))


def _task_for(request, pk) -> HumanTask:
    task = get_object_or_404(HumanTask.objects.select_related("instance"), pk=pk)
    if not can_act(request.user, task) and task.completed_by_id != request.user.pk:
        raise PermissionDenied("You may not act on this task")
    return task


class ClaimTask(APIView):
    @extend_schema(request=None, responses={200: s.TaskSerializer})
    def post(self, request, pk):
        task = approvals.claim_task(_task_for(request, pk), request.user)
        return Response(s.TaskSerializer(task).data)


class CompleteTask(APIView):
    @extend_schema(request=s.CompleteSerializer, responses={200: s.InstanceSerializer})
    def post(self, request, pk):
        task = _task_for(request, pk)
        body = s.CompleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if task.state != HumanTask.OPEN:
            raise runtime.TaskNotOpen(f"Task {task.pk} is already {task.state}")
        instance = approvals.complete_task(task, request.user, body.validated_data["data"])
        return Response(s.InstanceSerializer(instance).data)


class IncidentList(generics.ListAPIView):
    serializer_class = s.IncidentSerializer

    def get_queryset(self):
        incidents = incidents_for_user(self.request.user)
        if self.request.query_params.get("state"):
            incidents = incidents.filter(state=self.request.query_params["state"])
        return incidents.order_by("-id")


class RetryIncident(APIView):
    @extend_schema(request=None, responses={200: s.IncidentSerializer})
    def post(self, request, pk):
        incident = get_object_or_404(incidents_for_user(request.user), pk=pk)
        require_perm(request, "engine.change_incident")
        try:
            incident = jobs.retry_incident(incident, request.user)
        except ValueError as exc:
            return Response({"error": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(s.IncidentSerializer(incident).data)



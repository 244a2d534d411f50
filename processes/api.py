"""REST API v1: thin views over engine.runtime, engine.jobs and approvals.services."""

from django.db.models import F, Q
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import filters, generics, parsers, status
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals import services as approvals
from approvals.permissions import can_start, can_view, stand_in_tasks, tasks_for_user
from engine import jobs, migration, modify, repairs, rollout, runtime
from engine.deploy import deploy_files, parse_bindings, parse_mappings, validate_files
from engine.models import DecisionDefinition, HumanTask, Incident, ProcessDefinition, ProcessInstance
from engine.process_tests import MAX_FILE_BYTES as MAX_TEST_FILE
from engine.process_tests import parse_cases
from processes import serializers as s
from processes.services import (
    bpmn_download,
    filter_incidents,
    filter_instances,
    incidents_for_user,
    instances_for_user,
    rollout_state,
)


class Pagination(LimitOffsetPagination):
    """Pages of at most 500 rows; a `limit` or `offset` that is not a whole number gets a 400 naming it."""

    max_limit = 500

    def get_limit(self, request):
        limit = _whole_number(request, self.limit_query_param, self.default_limit, minimum=1)
        return min(limit, self.max_limit)

    def get_offset(self, request):
        return _whole_number(request, self.offset_query_param, 0, minimum=0)


def _whole_number(request, name: str, default: int, minimum: int) -> int:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    # int() refuses strings of more than 4300 digits; any number this long is past every page anyway.
    number = (int(value) if len(value) <= 18 else 10**18) if value.isascii() and value.isdigit() else None
    if number is None or number < minimum:
        raise ValidationError({name: f"must be a whole number of at least {minimum}, not {value[:50]!r}"})
    return number


def query_param(request, name: str) -> str:
    """A filter from the query string, "" if absent; a NUL character gets a 400 (PostgreSQL cannot compare it)."""
    value = request.query_params.get(name, "")
    if "\x00" in value:
        raise ValidationError({name: "must not contain NUL characters"})
    return value


def state_param(request, states: list[str]) -> str:
    """The `state` filter, "" if absent; a state no row can have gets a 400 naming the ones there are."""
    state = query_param(request, "state")
    if state and state not in states:
        raise ValidationError({"state": f"must be one of {', '.join(states)}, not {state[:50]!r}"})
    return state


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a 400 for JSON nested deeper than Python can parse or holding a lone surrogate."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deep")
        # "\ud800" parses, but no database or response can encode it: refuse it before any field sees it.
        field = _lone_surrogate_at(data, "")
        if field is not None:
            raise ValidationError({field or "body": runtime.LONE_SURROGATE})
        return data


def _lone_surrogate_at(value, path: str) -> str | None:
    """The path of the first text or key in `value` that holds a lone surrogate, or None."""
    if isinstance(value, str):
        return path if runtime.has_lone_surrogate(value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        inner = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
        if isinstance(key, str) and runtime.has_lone_surrogate(key):
            return inner.encode("utf-8", "backslashreplace").decode()
        found = _lone_surrogate_at(item, inner)
        if found is not None:
            return found
    return None


BODY_PARSERS = [JSONParser, parsers.FormParser, parsers.MultiPartParser]


def require_perm(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(f"You need the permission {perm}")


class DefinitionList(generics.ListCreateAPIView):
    """Deployed process definitions; POST a BPMN file (multipart `file`, optional `tests` cases) to deploy, with
    the DMN files it uses (more `file` parts), or DMN files alone."""

    required_scope = "definitions:deploy"
    serializer_class = s.DefinitionSerializer
    pagination_class = Pagination
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    queryset = ProcessDefinition.objects.order_by("process_id", "-version")

    @extend_schema(request=s.DefinitionUploadSerializer, responses={201: s.DefinitionSerializer})
    def post(self, request):
        require_perm(request, "engine.add_processdefinition")
        uploads = request.FILES.getlist("file")
        if not uploads:
            raise ValidationError({"file": "Upload the BPMN file in the multipart field 'file'"})
        limit = 5 * 1024 * 1024
        for upload in uploads:
            if upload.size > limit:
                return Response({"error": f"File is {upload.size} bytes; the limit is {limit} bytes (5 MB)",
                                 "field": "file"}, status=status.HTTP_400_BAD_REQUEST)
        mappings_file = request.FILES.get("mappings")
        tests_file = request.FILES.get("tests")
        deployment = deploy_files([(u.name or "upload.bpmn", u.read()) for u in uploads], request.user,
                                  bindings=parse_bindings(request.data.get("bindings")),
                                  mappings=parse_mappings(mappings_file.read(1024 * 1024) if mappings_file else None),
                                  tests=parse_cases(tests_file.read(MAX_TEST_FILE + 1)) if tests_file else None)
        data = {}
        if deployment.definitions:
            data = s.DefinitionSerializer(deployment.definitions[0], context={"request": request}).data
        data["deployed"] = [{"process_id": d.process_id, "version": d.version, "id": d.pk}
                            for d in deployment.definitions]
        data["decisions"] = s.DecisionSerializer(deployment.decisions, many=True).data
        data["created"] = deployment.created
        return Response(data, status=status.HTTP_201_CREATED if deployment.created else status.HTTP_200_OK)


class ValidateDefinition(APIView):
    """Check a BPMN file (and the DMN files beside it) as a deploy would, storing nothing (multipart `file`;
    `bindings`, `mappings`, `tests`)."""

    required_scope = "definitions:deploy"
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(request=s.DefinitionUploadSerializer, responses={200: s.ValidationSerializer})
    def post(self, request):
        require_perm(request, "engine.add_processdefinition")
        uploads = request.FILES.getlist("file")
        if not uploads:
            raise ValidationError({"file": "Upload the BPMN file in the multipart field 'file'"})
        limit = 5 * 1024 * 1024
        for upload in uploads:
            if upload.size > limit:
                message = f"File is {upload.size} bytes; the limit is {limit} bytes (5 MB)"
                return Response({"problems": [{"element_id": None, "line": None, "message": message,
                                               "severity": "error"}], "warnings": []})
        mappings_file = request.FILES.get("mappings")
        tests_file = request.FILES.get("tests")
        result = validate_files([(u.name or "upload.bpmn", u.read()) for u in uploads],
                                bindings=request.data.get("bindings"),
                                mappings=mappings_file.read(1024 * 1024) if mappings_file else None,
                                tests=tests_file.read(MAX_TEST_FILE + 1) if tests_file else None, user=request.user)
        return Response(result)


class DecisionList(generics.ListAPIView):
    """Deployed DMN decisions, every version, newest first per decision; deploy them through /definitions/."""

    serializer_class = s.DecisionSerializer
    pagination_class = Pagination
    queryset = DecisionDefinition.objects.order_by("decision_id", "-version")

    @extend_schema(parameters=[OpenApiParameter("decision_id", str, description="only this decision's versions")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        decision_id = query_param(self.request, "decision_id")
        return self.queryset.filter(decision_id=decision_id) if decision_id else self.queryset


class DefinitionDetail(generics.RetrieveAPIView):
    serializer_class = s.DefinitionSerializer
    queryset = ProcessDefinition.objects.all()


class DefinitionBpmn(APIView):
    """The BPMN file of a definition version, as deployed."""

    @extend_schema(responses={(200, "application/xml"): bytes})
    def get(self, request, pk):
        return bpmn_download(get_object_or_404(ProcessDefinition, pk=pk))


class StartInstance(APIView):
    """Start a process at `version` (else its latest). Header Idempotency-Key: the same key, the same instance."""

    required_scope = "instances:start"
    scope_narrowed_by = "process_id"  # a token may hold instances:start:<process id>
    parser_classes = BODY_PARSERS

    @extend_schema(request=s.StartSerializer, responses={201: s.InstanceSerializer, 200: s.InstanceSerializer},
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)])
    def post(self, request, process_id):
        if "\x00" in process_id:
            raise NotFound(f"No process {process_id!r}")
        definition = runtime.latest_definition(process_id)
        if not can_start(request.user, definition):
            raise PermissionDenied(f"You may not start {process_id!r}")
        body = s.StartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key and len(key) > 255:
            raise ValidationError({"Idempotency-Key": "at most 255 characters"})
        if key and "\x00" in key:
            raise ValidationError({"Idempotency-Key": "must not contain NUL characters"})
        instance, created = runtime.start_instance(
            process_id, body.validated_data["variables"], body.validated_data["business_key"],
            user=request.user, idempotency_key=key, version=body.validated_data["version"])
        instance.refresh_from_db()
        return Response(s.InstanceSerializer(instance).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ProcessRollout(APIView):
    """Gradual rollout: PUT the share of new instances that start on a version; GET it with instances per version."""

    required_scope = "definitions:deploy"
    parser_classes = BODY_PARSERS

    @extend_schema(responses={200: dict})
    def get(self, request, process_id):
        require_perm(request, "engine.view_processdefinition")
        return Response(rollout_state(process_id))

    @extend_schema(request=s.RolloutSerializer, responses={200: dict})
    def put(self, request, process_id):
        require_perm(request, "engine.change_processdefinition")
        body = s.RolloutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            rollout.set_rollout(process_id, data["version"], data["percent"], request.user, data["reason"])
        except rollout.RolloutError as exc:
            if exc.field == "process_id":
                raise NotFound(str(exc)) from None
            raise ValidationError({exc.field: str(exc)}) from None
        return Response(rollout_state(process_id))


class InstanceList(generics.ListAPIView):
    """Instances the caller may read; filters: state, process, business_key."""

    serializer_class = s.InstanceListSerializer
    pagination_class = Pagination

    @extend_schema(parameters=[OpenApiParameter("state", str, enum=[value for value, _label in ProcessInstance.STATES]),
                               OpenApiParameter("process", str),
                               OpenApiParameter("business_key", str)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        state = state_param(self.request, [value for value, _label in ProcessInstance.STATES])
        process, key = (query_param(self.request, name) for name in ("process", "business_key"))
        return filter_instances(instances_for_user(self.request.user), state, process, key)


class InstanceDetail(generics.RetrieveAPIView):
    """One instance; its ETag is the instance's version, which `If-Match` on an operator's action checks."""

    serializer_class = s.InstanceSerializer

    def get_queryset(self):
        return instances_for_user(self.request.user)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        return Response(self.get_serializer(instance).data, headers={"ETag": f'"{instance.version}"'})


IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=False,
    description="The instance's ETag as read: if the instance changed since, 409 instead of acting on it.")


def seen_version(request) -> int | None:
    """The instance version an `If-Match` header names (the ETag the client read), or None without one."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    text = header.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise ValidationError({"If-Match": [f"{header!r} is not an ETag of this API: send the instance's ETag"]})
    return int(text)


class InstanceHistory(generics.ListAPIView):
    """The instance's history, oldest first."""

    serializer_class = s.HistorySerializer
    pagination_class = None

    def get_queryset(self):
        instance = get_object_or_404(instances_for_user(self.request.user), pk=self.kwargs["pk"])
        return instance.history.select_related("user").order_by("id")


class InstanceAction(APIView):
    """An operator's action on one instance: load it, check the permission, read the body, act, answer with it.

    Subclasses name the body's serializer, say in `act(instance, request, data)` what to do,
    and answer their HTTP method (with its schema) by calling `run`.
    """

    required_scope = "instances:operate"
    parser_classes = BODY_PARSERS
    body_class = s.ReasonSerializer

    def run(self, request, pk):
        """Load, check, read the body, act and answer; the HTTP method handlers call this."""
        instance = get_object_or_404(instances_for_user(request.user), pk=pk)
        require_perm(request, "engine.change_processinstance")
        body = self.body_class(data=request.data)
        body.is_valid(raise_exception=True)
        # Without If-Match: the instance as this request read it, so of two operators at once one gets 409.
        given = seen_version(request)
        self.seen_version = instance.version if given is None else given
        self.act(instance, request, body.validated_data)
        # Read again: what the action ran when it committed (due calls and timers on a resume) shows too.
        return Response(s.InstanceSerializer(instances_for_user(request.user).get(pk=pk)).data)

    def act(self, instance, request, data: dict) -> None:
        raise NotImplementedError


class CancelInstance(InstanceAction):
    required_scope = "instances:cancel"
    body_class = s.CancelSerializer

    @extend_schema(request=s.CancelSerializer, responses={200: s.InstanceSerializer})
    def post(self, request, pk):
        return self.run(request, pk)

    def act(self, instance, request, data):
        runtime.cancel_instance(instance, request.user, data["reason"])


class SuspendInstance(InstanceAction):
    """Hold an active instance: no task completes and no call or timer runs until it is resumed."""

    @extend_schema(request=s.ReasonSerializer, responses={200: s.InstanceSerializer})
    def post(self, request, pk):
        return self.run(request, pk)

    def act(self, instance, request, data):
        repairs.suspend_instance(instance, request.user, data["reason"])


class ResumeInstance(InstanceAction):
    """Let a suspended instance go on; what fell due meanwhile runs now."""

    @extend_schema(request=s.ReasonSerializer, responses={200: s.InstanceSerializer})
    def post(self, request, pk):
        return self.run(request, pk)

    def act(self, instance, request, data):
        repairs.resume_instance(instance, request.user, data["reason"])


# --- Moving tokens (instance modification) ---

class ModifyInstance(InstanceAction):
    """Cancel the tokens at `cancel` and start new ones before `start_before`, with a reason (and `variables`)."""

    body_class = s.ModifySerializer

    @extend_schema(request=s.ModifySerializer, responses={200: s.InstanceSerializer}, parameters=[IF_MATCH])
    def post(self, request, pk):
        return self.run(request, pk)

    def act(self, instance, request, data):
        modify.modify_instance(instance, request.user, data["cancel"], data["start_before"], data["reason"],
                               data["variables"], seen_version=self.seen_version)


class InstanceVariables(InstanceAction):
    """Set and remove variables of a running instance, with a reason; history keeps old and new values."""

    body_class = s.VariablesSerializer

    @extend_schema(request=s.VariablesSerializer, responses={200: s.InstanceSerializer}, parameters=[IF_MATCH])
    def patch(self, request, pk):
        return self.run(request, pk)

    def act(self, instance, request, data):
        repairs.edit_variables(instance, request.user, data["set"], data["unset"], data["reason"],
                               seen_version=self.seen_version)


class TaskOrdering(filters.OrderingFilter):
    """`?ordering=-amount,customer`: by the named fields, "-" for descending; an unknown field gets a 400 naming it."""

    ordering_fields = ["amount", "customer", "due_at", "created_at", "priority", "id"]
    ordering_description = ("Comma-separated, \"-\" first for descending: amount, customer, due_at, created_at, "
                            "priority, id. Tasks without an amount or a due date come last either way.")

    def get_ordering(self, request, queryset, view):
        text = request.query_params.get(self.ordering_param, "")
        if not text.strip():
            return None
        ordering = []
        for term in text.split(","):
            term = term.strip()
            if term.lstrip("-") not in self.ordering_fields:
                raise ValidationError({self.ordering_param: f"cannot order by {term[:50]!r}; use one of "
                                                            f"{', '.join(self.ordering_fields)}, with - to reverse"})
            field = term.lstrip("-")
            ordering.append(F(field).desc(nulls_last=True) if term.startswith("-") else F(field).asc(nulls_last=True))
        return [*ordering, "id"]

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        return queryset.order_by(*ordering) if ordering else queryset


class TaskList(generics.ListAPIView):
    """Open tasks the caller may act on: theirs, their roles' unclaimed ones, and those of absent colleagues."""

    serializer_class = s.TaskSerializer
    pagination_class = Pagination
    filter_backends = [TaskOrdering]

    def get_queryset(self):
        user = self.request.user
        return (tasks_for_user(user).filter(state=HumanTask.OPEN)
                .filter(Q(assignee__isnull=True) | Q(assignee=user)
                        | Q(pk__in=stand_in_tasks(user).values("pk")))
                .select_related("instance__definition", "assignee").order_by(F("due_at").asc(nulls_last=True), "id"))


def _task_for(request, pk) -> HumanTask:
    # Seeing is enough here: acting (claimed by a colleague, say) is checked by approvals.services.
    task = get_object_or_404(HumanTask.objects.select_related("instance"), pk=pk)
    if not can_view(request.user, task):
        raise PermissionDenied("You may not act on this task")
    return task


class ClaimTask(APIView):
    required_scope = "tasks:claim"

    @extend_schema(request=None, responses={200: s.TaskSerializer})
    def post(self, request, pk):
        task = approvals.claim_task(_task_for(request, pk), request.user)
        return Response(s.TaskSerializer(task).data)


class CompleteTask(APIView):
    required_scope = "tasks:complete"
    parser_classes = BODY_PARSERS

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
    pagination_class = Pagination

    def get_queryset(self):
        incidents = incidents_for_user(self.request.user)
        state = state_param(self.request, [Incident.OPEN, Incident.RESOLVED])
        if state:
            incidents = incidents.filter(state=state)
        return incidents.order_by("-id")


class RetryIncident(APIView):
    """Run the failed call again; the incident stays open until it succeeds."""

    required_scope = "incidents:retry"
    parser_classes = BODY_PARSERS

    @extend_schema(request=s.RetrySerializer, responses={200: s.IncidentSerializer})
    def post(self, request, pk):
        incident = get_object_or_404(incidents_for_user(request.user), pk=pk)
        require_perm(request, "engine.change_incident")
        body = s.RetrySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            incident = jobs.retry_incident(incident, request.user, body.validated_data["reason"])
        except ValueError as exc:
            return Response({"error": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response({**s.IncidentSerializer(incident).data, "outcome": repairs.retry_outcome(incident)})


class RetryIncidents(APIView):
    """Retry many open incidents: by `ids`, or all of a `process_id` and/or `element_id`."""

    required_scope = "incidents:retry"
    parser_classes = BODY_PARSERS

    @extend_schema(request=s.RetryManySerializer, responses={200: dict})
    def post(self, request):
        require_perm(request, "engine.change_incident")
        body = s.RetryManySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        incidents = filter_incidents(incidents_for_user(request.user), **{
            name: body.validated_data.get(name) for name in ("ids", "process_id", "element_id")})
        results = repairs.retry_incidents(incidents.order_by("id")[:500], request.user, body.validated_data["reason"])
        return Response({"results": results})


class ResolveIncident(APIView):
    """Close an incident without a retry: skip its task with an output, or cancel the instance."""

    required_scope = "incidents:resolve"
    parser_classes = BODY_PARSERS

    @extend_schema(request=s.ResolveSerializer, responses={200: s.IncidentSerializer})
    def post(self, request, pk):
        incident = get_object_or_404(incidents_for_user(request.user), pk=pk)
        require_perm(request, "engine.change_incident")
        body = s.ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        incident = repairs.resolve_incident(incident, data["action"], request.user, data["comment"], data["output"])
        return Response(s.IncidentSerializer(incident).data)




# --- Migration to another version (engine.migration) --------------------------------------------


class MigrateInstance(APIView):
    """Move an instance to another version of its process; `dry_run` says where each waiting element would go."""

    required_scope = "instances:operate"
    parser_classes = BODY_PARSERS

    @extend_schema(request=s.MigrateSerializer, responses={200: dict})
    def post(self, request, pk):
        instance = get_object_or_404(instances_for_user(request.user).select_related("definition"), pk=pk)
        require_perm(request, "engine.change_processinstance")
        body = s.MigrateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = migration.migrate_instance(instance, data["to_version"], data["mapping"], user=request.user,
                                            reason=data["reason"], dry_run=data["dry_run"])
        return Response(result)


class MigrateInstances(APIView):
    """Move many instances of one version to another: each in its own transaction, one result per instance."""

    required_scope = "instances:operate"
    parser_classes = BODY_PARSERS

    @extend_schema(request=s.MigrateManySerializer, responses={200: dict})
    def post(self, request):
        require_perm(request, "engine.change_processinstance")
        body = s.MigrateManySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        results = migration.migrate_instances(
            data["process_id"], data["from_version"], data["to_version"], data["mapping"],
            instance_ids=data.get("instances"), user=request.user, reason=data["reason"], dry_run=data["dry_run"])
        return Response({"results": results})

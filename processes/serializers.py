"""How definitions, instances, tasks and incidents look over the API."""

import math

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from engine.models import DecisionDefinition, HistoryEvent, HumanTask, Incident, ProcessDefinition, ProcessInstance


class DefinitionSerializer(serializers.ModelSerializer):
    bpmn_url = serializers.SerializerMethodField()

    class Meta:
        model = ProcessDefinition
        fields = ["id", "process_id", "version", "name", "file_name", "content_hash", "lanes", "lane_roles",
                  "warnings", "deployed_at", "bpmn_url"]

    def get_bpmn_url(self, obj) -> str:
        return reverse("api-definition-bpmn", args=[obj.pk], request=self.context.get("request"))


class DecisionSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField(help_text='"table" (a decision table), or "literal" (a literal '
                                                       'expression, which has no hit policy)')
    hit_policy = serializers.SerializerMethodField(help_text="The table's hit policy; null for a literal expression")

    class Meta:
        model = DecisionDefinition
        fields = ["id", "decision_id", "version", "name", "kind", "hit_policy", "file_name", "content_hash",
                  "deployed_at"]

    def get_kind(self, obj) -> str:
        return "literal" if "literal" in obj.table else "table"

    def get_hit_policy(self, obj) -> str | None:
        return None if "literal" in obj.table else obj.hit_policy


class DefinitionUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The BPMN file, or a DMN file; repeat the field to add the DMN files "
                                           "the BPMN file uses")
    bindings = serializers.CharField(required=False, help_text="JSON object: service task id → operation name")
    mappings = serializers.FileField(required=False, help_text="Field mappings, a JSON file")
    tests = serializers.FileField(required=False, help_text="Process test cases (JSON or YAML), run before storing")


class ProblemSerializer(serializers.Serializer):
    element_id = serializers.CharField(allow_null=True)
    line = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()
    severity = serializers.CharField()


class ValidationSerializer(serializers.Serializer):
    problems = ProblemSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


class TaskSerializer(serializers.ModelSerializer):
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    completed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # The absent colleague a substitute completed it for.
    on_behalf_of = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    process_id = serializers.CharField(source="instance.definition.process_id", read_only=True)
    business_key = serializers.CharField(source="instance.business_key", read_only=True)

    class Meta:
        model = HumanTask
        fields = ["id", "instance", "process_id", "business_key", "element_id", "name", "lane", "candidate_groups",
                  "assignee", "state", "form", "data", "amount", "customer", "priority", "due_at", "created_at",
                  "completed_at", "completed_by", "on_behalf_of"]


class IncidentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Incident
        fields = ["id", "instance", "job", "element_id", "message", "details", "state", "created_at", "resolved_at",
                  "resolution", "comment", "retries", "last_attempt_at"]


class InstanceSerializer(serializers.ModelSerializer):
    process_id = serializers.CharField(source="definition.process_id", read_only=True)
    version = serializers.IntegerField(source="definition.version", read_only=True)
    tasks = serializers.SerializerMethodField()
    incidents = serializers.SerializerMethodField()

    class Meta:
        model = ProcessInstance
        fields = ["id", "process_id", "version", "business_key", "state", "outcome", "variables", "error", "tasks",
                  "incidents", "started_at", "ended_at"]

    @extend_schema_field(TaskSerializer(many=True))
    def get_tasks(self, obj) -> list:
        tasks = obj.human_tasks.filter(state=HumanTask.OPEN)
        return TaskSerializer(tasks, many=True).data

    @extend_schema_field(IncidentSerializer(many=True))
    def get_incidents(self, obj) -> list:
        return IncidentSerializer(obj.incidents.filter(state=Incident.OPEN), many=True).data


class InstanceListSerializer(serializers.ModelSerializer):
    process_id = serializers.CharField(source="definition.process_id", read_only=True)
    version = serializers.IntegerField(source="definition.version", read_only=True)

    class Meta:
        model = ProcessInstance
        fields = ["id", "process_id", "version", "business_key", "state", "outcome", "started_at", "ended_at"]


MAX_DEPTH = 32


class JSONObjectField(serializers.JSONField):
    """A JSON object the engine can store: nested at most 32 levels, no NUL characters, only finite numbers."""

    def to_internal_value(self, data):
        try:
            value = super().to_internal_value(data)
        except RecursionError:
            raise serializers.ValidationError(f"is nested too deep (at most {MAX_DEPTH} levels)")
        except serializers.ValidationError:
            # DRF only says "Value must be valid JSON."; say what is wrong where we can.
            raise serializers.ValidationError(storage_problem(data) or "must be valid JSON")
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object")
        problem = storage_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value


def storage_problem(value, depth: int = 0) -> str | None:
    """What keeps `value` from being stored as JSON (in PostgreSQL too), or None."""
    if depth > MAX_DEPTH:
        return f"is nested too deep (at most {MAX_DEPTH} levels)"
    if isinstance(value, str):
        return "must not contain NUL characters" if "\x00" in value else None
    if isinstance(value, float) and not math.isfinite(value):
        return f"contains a number JSON cannot carry: {value}"
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        problem = storage_problem(child, depth + 1)
        if problem:
            return problem
    return None


class StartSerializer(serializers.Serializer):
    business_key = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    variables = JSONObjectField(required=False, default=dict)
    # Without it, the latest version starts.
    version = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                       max_value=2**31 - 1)


class CompleteSerializer(serializers.Serializer):
    data = JSONObjectField(required=False, default=dict)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RetrySerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class RetryManySerializer(RetrySerializer):
    """Which open incidents to retry: by id, or every one of a process and/or element."""

    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**62), required=False,
                                max_length=500)
    process_id = serializers.CharField(required=False, max_length=255)
    element_id = serializers.CharField(required=False, max_length=255)

    def validate(self, attrs):
        if not any(attrs.get(name) for name in ("ids", "process_id", "element_id")):
            raise serializers.ValidationError({"ids": "give ids, or a process_id and/or element_id to filter by"})
        return attrs


class ResolveSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["skip", "cancel"])
    output = JSONObjectField(required=False, default=dict)
    comment = serializers.CharField(max_length=2000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class VariablesSerializer(serializers.Serializer):
    set = JSONObjectField(required=False, default=dict)
    unset = serializers.ListField(child=serializers.CharField(max_length=255), required=False, default=list,
                                  max_length=1000)
    reason = serializers.CharField(max_length=2000)


class ModifySerializer(serializers.Serializer):
    """Which tokens to cancel and where to start new ones: element ids of the process."""

    cancel = serializers.ListField(child=serializers.CharField(max_length=255), required=False, default=list,
                                   max_length=100)
    start_before = serializers.ListField(child=serializers.CharField(max_length=255), required=False, default=list,
                                         max_length=100)
    variables = JSONObjectField(required=False, default=dict)
    reason = serializers.CharField(max_length=2000)


class RolloutSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    percent = serializers.IntegerField(min_value=0, max_value=100)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class HistorySerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = HistoryEvent
        fields = ["id", "kind", "element_id", "element_name", "user", "data", "at"]


# --- Migration to another version --------------------------------------------------------------


class MigrateSerializer(serializers.Serializer):
    """Move an instance to `to_version`; `mapping` names new elements for old ones (same ids map by default)."""

    to_version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    mapping = serializers.DictField(child=serializers.CharField(max_length=255, allow_blank=False),
                                    required=False, default=dict)
    dry_run = serializers.BooleanField(required=False, default=False)
    # Required for a real migration, as for every other repair; a dry run changes nothing.
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate_mapping(self, value):
        if len(value) > 1000:
            raise serializers.ValidationError("at most 1000 elements")
        for key in value:
            if not key or len(key) > 255 or "\x00" in key:
                raise serializers.ValidationError(f"{key[:50]!r} is no element id")
        return value

    def validate(self, attrs):
        if not attrs["dry_run"] and not attrs["reason"].strip():
            raise serializers.ValidationError({"reason": "say why the instances move (not needed for a dry run)"})
        return attrs


class MigrateManySerializer(MigrateSerializer):
    """Move the instances of `from_version` (all running ones, or those in `instances`) to `to_version`."""

    process_id = serializers.CharField(max_length=255)
    from_version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    instances = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**62), required=False,
                                      allow_empty=False, max_length=10_000)

"""How definitions, instances, tasks and incidents look over the API."""

from rest_framework import serializers
from rest_framework.reverse import reverse

from engine.models import HistoryEvent, HumanTask, Incident, ProcessDefinition, ProcessInstance


class DefinitionSerializer(serializers.ModelSerializer):
    bpmn_url = serializers.SerializerMethodField()

    class Meta:
        model = ProcessDefinition
        fields = ["id", "process_id", "version", "name", "file_name", "content_hash", "lanes", "lane_roles",
                  "warnings", "deployed_at", "bpmn_url"]

    def get_bpmn_url(self, obj) -> str:
        return reverse("api-definition-bpmn", args=[obj.pk], request=self.context.get("request"))


class DefinitionUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class TaskSerializer(serializers.ModelSerializer):
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    process_id = serializers.CharField(source="instance.definition.process_id", read_only=True)
    business_key = serializers.CharField(source="instance.business_key", read_only=True)

    class Meta:
        model = HumanTask
        fields = ["id", "instance", "process_id", "business_key", "element_id", "name", "lane", "candidate_groups",
                  "assignee", "state", "form", "data", "priority", "due_at", "created_at", "completed_at"]


class IncidentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Incident
        fields = ["id", "instance", "job", "element_id", "message", "details", "state", "created_at", "resolved_at"]


class InstanceSerializer(serializers.ModelSerializer):
    process_id = serializers.CharField(source="definition.process_id", read_only=True)
    version = serializers.IntegerField(source="definition.version", read_only=True)
    tasks = serializers.SerializerMethodField()
    incidents = serializers.SerializerMethodField()

    class Meta:
        model = ProcessInstance
        fields = ["id", "process_id", "version", "business_key", "state", "variables", "error", "tasks",
                  "incidents", "started_at", "ended_at"]

    def get_tasks(self, obj) -> list:
        tasks = obj.human_tasks.filter(state=HumanTask.OPEN)
        return TaskSerializer(tasks, many=True).data

    def get_incidents(self, obj) -> list:
        return IncidentSerializer(obj.incidents.filter(state=Incident.OPEN), many=True).data


class InstanceListSerializer(serializers.ModelSerializer):
    process_id = serializers.CharField(source="definition.process_id", read_only=True)
    version = serializers.IntegerField(source="definition.version", read_only=True)

    class Meta:
        model = ProcessInstance
        fields = ["id", "process_id", "version", "business_key", "state", "started_at", "ended_at"]


class StartSerializer(serializers.Serializer):
    business_key = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    variables = serializers.JSONField(required=False, default=dict)

    def validate_variables(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object")
        return value


class CompleteSerializer(serializers.Serializer):
    data = serializers.JSONField(required=False, default=dict)

    def validate_data(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object")
        return value


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class HistorySerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = HistoryEvent
        fields = ["id", "kind", "element_id", "element_name", "user", "data", "at"]

from django.contrib import admin

from engine.models import (
    BufferedMessage,
    HistoryEvent,
    HumanTask,
    Incident,
    Job,
    ProcessDefinition,
    ProcessInstance,
)


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(admin.ModelAdmin):
    list_display = ["process_id", "version", "name", "deployed_at"]
    search_fields = ["process_id", "name"]
    exclude = ["spec_json"]


@admin.register(ProcessInstance)
class ProcessInstanceAdmin(admin.ModelAdmin):
    list_display = ["id", "definition", "business_key", "state", "started_at"]
    list_filter = ["state"]
    search_fields = ["business_key"]
    exclude = ["state_json"]


admin.site.register([HumanTask, Job, Incident, HistoryEvent])


@admin.register(BufferedMessage)
class BufferedMessageAdmin(admin.ModelAdmin):
    """Messages waiting for an instance, and the record of those delivered or expired undelivered."""

    list_display = ["id", "name", "business_key", "state", "created_at", "expires_at", "ended_at", "instance"]
    list_filter = ["state"]
    search_fields = ["name", "business_key"]

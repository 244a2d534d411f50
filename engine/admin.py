from django.contrib import admin

from engine.models import HistoryEvent, HumanTask, Incident, Job, ProcessDefinition, ProcessInstance


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

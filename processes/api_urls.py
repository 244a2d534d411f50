from django.urls import path

from processes import api, events_api

urlpatterns = [
    path("definitions/", api.DefinitionList.as_view(), name="api-definitions"),
    path("definitions/validate/", api.ValidateDefinition.as_view(), name="api-definitions-validate"),
    path("definitions/<int:pk>/", api.DefinitionDetail.as_view(), name="api-definition"),
    path("decisions/", api.DecisionList.as_view(), name="api-decisions"),
    path("definitions/<int:pk>/bpmn/", api.DefinitionBpmn.as_view(), name="api-definition-bpmn"),
    path("processes/<str:process_id>/instances/", api.StartInstance.as_view(), name="api-start"),
    path("processes/<str:process_id>/rollout/", api.ProcessRollout.as_view(), name="api-rollout"),
    path("instances/", api.InstanceList.as_view(), name="api-instances"),
    path("instances/migrate/", api.MigrateInstances.as_view(), name="api-instances-migrate"),
    path("instances/<int:pk>/", api.InstanceDetail.as_view(), name="api-instance"),
    path("instances/<int:pk>/history/", api.InstanceHistory.as_view(), name="api-instance-history"),
    path("instances/<int:pk>/cancel/", api.CancelInstance.as_view(), name="api-instance-cancel"),
    path("instances/<int:pk>/suspend/", api.SuspendInstance.as_view(), name="api-instance-suspend"),
    path("instances/<int:pk>/resume/", api.ResumeInstance.as_view(), name="api-instance-resume"),
    path("instances/<int:pk>/variables/", api.InstanceVariables.as_view(), name="api-instance-variables"),
    # Moving tokens
    path("instances/<int:pk>/modify/", api.ModifyInstance.as_view(), name="api-instance-modify"),
    path("instances/<int:pk>/migrate/", api.MigrateInstance.as_view(), name="api-instance-migrate"),
    path("tasks/", api.TaskList.as_view(), name="api-tasks"),
    path("tasks/<int:pk>/claim/", api.ClaimTask.as_view(), name="api-task-claim"),
    path("tasks/<int:pk>/complete/", api.CompleteTask.as_view(), name="api-task-complete"),
    path("incidents/", api.IncidentList.as_view(), name="api-incidents"),
    path("incidents/retry/", api.RetryIncidents.as_view(), name="api-incidents-retry"),
    path("incidents/<int:pk>/retry/", api.RetryIncident.as_view(), name="api-incident-retry"),
    path("incidents/<int:pk>/resolve/", api.ResolveIncident.as_view(), name="api-incident-resolve"),
    path("messages/", events_api.SendMessage.as_view(), name="api-messages"),
    path("signals/", events_api.SendSignal.as_view(), name="api-signals"),
]

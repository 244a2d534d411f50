from django.urls import path

from processes import migration_views, modeler, views

app_name = "processes"

urlpatterns = [
    path("", views.definitions, name="definitions"),
    path("definitions/<int:pk>/", views.definition, name="definition"),
    path("definitions/<int:pk>/bpmn/", views.definition_bpmn, name="definition-bpmn"),
    path("definitions/<int:pk>/edit/", modeler.edit, name="modeler-edit"),
    path("modeler/", modeler.new, name="modeler"),
    path("modeler/blank.bpmn", modeler.blank, name="modeler-blank"),
    path("modeler/save/", modeler.save, name="modeler-save"),
    path("definitions/<int:pk>/rollout/", views.set_rollout, name="rollout"),
    path("instances/", views.instances, name="instances"),
    path("instances/<int:pk>/", views.instance, name="instance"),
    path("instances/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("instances/<int:pk>/suspend/", views.suspend, name="suspend"),
    path("instances/<int:pk>/resume/", views.resume, name="resume"),
    path("instances/<int:pk>/variables/", views.edit_variables, name="edit-variables"),
    path("instances/<int:pk>/erp/", views.move_erp_along, name="move-erp-along"),
    # Moving tokens
    path("instances/<int:pk>/move/", views.move_token, name="move-token"),
    # Migration to another version (processes.migration_views).
    path("instances/<int:pk>/migrate/", migration_views.migrate_instance, name="migrate-instance"),
    path("definitions/<int:pk>/migrate/", migration_views.migrate_version, name="migrate-version"),
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/retry/", views.retry_incidents, name="retry-incidents"),
    path("incidents/<int:pk>/", views.incident, name="incident"),
    path("incidents/<int:pk>/retry/", views.retry_incident, name="retry-incident"),
    path("incidents/<int:pk>/resolve/", views.resolve_incident, name="resolve-incident"),
]

"""The analysts' browser modeler: the page, a blank diagram, and saving a drawing as a new version."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from engine import connectors
from engine.deploy import DeployError, deploy, lane_warnings, validate
from engine.models import ProcessDefinition
from engine.process_tests import MAX_FILE_BYTES as MAX_TEST_FILE
from engine.process_tests import parse_cases

MAX_FILE = 5 * 1024 * 1024

# What "New process" opens: one executable process with a start event, laid out for the canvas.
BLANK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_new" targetNamespace="http://lanebridge/bpmn">
  <bpmn:process id="new_process" name="New process" isExecutable="true">
    <bpmn:startEvent id="start" name="Start" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="new_process">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _require_analyst(request) -> None:
    # Deploying is what saving does: the same permission (Analyst role, superusers).
    if not request.user.has_perm("engine.add_processdefinition"):
        raise PermissionDenied


def _page(request, definition: ProcessDefinition | None):
    _require_analyst(request)
    catalog = {
        "operations": [{"name": name, "description": connectors.get_operation(name).description}
                       for name in connectors.operation_names()],
        "roles": list(Group.objects.order_by("name").values_list("name", flat=True)),
    }
    return render(request, "processes/modeler.html", {
        "definition": definition,
        "catalog": catalog,
        "lane_roles": definition.lane_roles if definition else {},
        "bpmn_url": reverse("processes:definition-bpmn", args=[definition.pk]) if definition
        else reverse("processes:modeler-blank"),
        "file_name": definition.file_name if definition and definition.file_name else "process.bpmn",
    })


@login_required
@require_safe
def new(request):
    """The modeler with a blank diagram."""
    return _page(request, None)


@login_required
@require_safe
def edit(request, pk: int):
    """The modeler with one deployed version's diagram; saving makes a new version."""
    return _page(request, get_object_or_404(ProcessDefinition, pk=pk))


@login_required
@require_safe
def blank(request):
    """The blank diagram a new process starts from."""
    _require_analyst(request)
    return HttpResponse(BLANK, content_type="application/xml")


@login_required
@require_POST
def save(request):
    """Deploy the drawing as a new version if the server finds no problem and its test cases pass."""
    _require_analyst(request)
    upload, tests = request.FILES.get("file"), request.FILES.get("tests")
    if upload is None or upload.size > MAX_FILE:
        return JsonResponse({"error": _("The diagram is missing or larger than 5 MB.")}, status=400)
    content = upload.read()
    test_bytes = tests.read(MAX_TEST_FILE + 1) if tests else None
    try:
        roles = _lane_roles(request.POST.get("lane_roles", "{}"))
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    checked = validate(content, upload.name, tests=test_bytes, user=request.user)
    errors = [p for p in checked["problems"] if p["severity"] == "error"]
    if errors:
        return JsonResponse({"error": _("Not saved: fix the problems listed first."), "problems": errors},
                            status=400)
    try:
        # The cases passed in validation just now; deploy runs them again, so a change between is caught.
        deployment = deploy(content, upload.name, request.user,
                            tests=parse_cases(test_bytes) if test_bytes else None)
    except DeployError as exc:
        return JsonResponse({"error": exc.message, "problems": [
            {"element_id": exc.element_id, "line": exc.line, "message": exc.message, "severity": "error"}]},
            status=400)
    for definition in deployment.definitions:
        _apply_lane_roles(definition, roles)
    first = deployment.definitions[0]
    return JsonResponse({"url": reverse("processes:definition", args=[first.pk]),
                         "process_id": first.process_id, "version": first.version,
                         "created": deployment.created})


def _lane_roles(raw: str) -> dict[str, str]:
    """The lane → role choices the page sends; every role must be an existing group."""
    try:
        roles = json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError(_("Lane roles could not be read.")) from None
    if not isinstance(roles, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in roles.items()):
        raise ValueError(_("Lane roles could not be read."))
    unknown = sorted({r for r in roles.values() if r} - set(Group.objects.values_list("name", flat=True)))
    if unknown:
        raise ValueError(_("No such role: %(roles)s") % {"roles": ", ".join(unknown)})
    return roles


def _apply_lane_roles(definition: ProcessDefinition, roles: dict[str, str]) -> None:
    chosen = {lane: roles[lane] for lane in definition.lanes if lane in roles}
    if not chosen or all(definition.lane_roles.get(lane) == role for lane, role in chosen.items()):
        return
    definition.lane_roles = {**definition.lane_roles, **chosen}
    file_warnings = [w for w in definition.warnings if not w.startswith("Lane ")]
    definition.warnings = file_warnings + lane_warnings(definition.lane_roles)
    definition.save(update_fields=["lane_roles", "warnings"])

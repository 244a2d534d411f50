"""Deploying BPMN files: safe parsing, validation and versioning."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.spiff.specs.defaults import ServiceTask

from engine import spiff
from engine.models import ProcessDefinition
from engine.scripts import check_script

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

_validator = None


class DeployError(Exception):
    """The file cannot be deployed; `element_id` and `line` point at the problem."""

    def __init__(self, message: str, element_id: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.element_id = element_id
        self.line = line

    def as_dict(self) -> dict:
        data = {"error": self.message}
        if self.element_id:
            data["element_id"] = self.element_id
        if self.line:
            data["line"] = self.line
        return data


@dataclass
class Deployment:
    """What deploying one file produced."""

    definitions: list[ProcessDefinition]
    created: bool
    warnings: list[str] = field(default_factory=list)


def parse_xml(content: bytes) -> etree._ElementTree:
    """Parse untrusted XML: no DTDs, no entities, no network, size capped."""
    limit = settings.LANEBRIDGE["MAX_BPMN_BYTES"]
    if len(content) > limit:
        raise DeployError(f"File is {len(content)} bytes; the limit is {limit} bytes (5 MB)")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        tree = etree.fromstring(content, parser).getroottree()
    except etree.XMLSyntaxError as exc:
        raise DeployError(f"Malformed XML: {exc.msg}", line=exc.lineno) from None
    # Entity declarations are the vector of XML bombs and external entities;
    # BPMN never needs them, so any DOCTYPE is refused outright.
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise DeployError("XML with a DOCTYPE or entity declarations is not allowed in BPMN files")
    root = tree.getroot()
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise DeployError(f"Not a BPMN 2.0 file: the root element is {root.tag!r}, expected bpmn:definitions")
    return tree


def _validation_error(exc: ValidationException, tree) -> DeployError:
    element_id = exc.id or None
    line = exc.line_number or None
    if element_id and not line:
        found = tree.xpath("//*[@id=$id]", id=element_id)
        line = found[0].sourceline if found else None
    message = str(exc.args[0]) if exc.args else str(exc)
    if element_id:
        message = f"{message} (element {element_id!r})"
    return DeployError(message, element_id=element_id, line=line)


def parse_processes(content: bytes, file_name: str = "upload.bpmn") -> tuple[etree._ElementTree, dict]:
    """Validate a BPMN file and return {process_id: (spec, subprocess_specs)} for its executable processes."""
    global _validator
    tree = parse_xml(content)
    if _validator is None:
        _validator = BpmnValidator()
    try:
        _validator.validate(tree.getroot(), file_name)
    except ValidationException as exc:
        raise DeployError(f"Not valid BPMN 2.0: {exc.args[0] if exc.args else exc}", line=exc.line_number or None)
    parser = spiff.BpmnParser()
    try:
        parser.add_bpmn_xml(tree, file_name)
        process_ids = parser.get_process_ids()
        if not process_ids:
            raise DeployError("The file has no executable process: set isExecutable=\"true\" on the process to run")
        specs = {pid: (parser.get_spec(pid), parser.get_subprocess_specs(pid)) for pid in process_ids}
    except ValidationException as exc:
        raise _validation_error(exc, tree) from None
    for spec, subprocess_specs in specs.values():
        for each in [spec, *subprocess_specs.values()]:
            _check_expressions(each)
    return tree, specs


def _check_expressions(spec) -> None:
    """Compile every script and condition now, so a typo fails the deploy, not a running order."""
    for task_spec in spec.task_specs.values():
        element_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
        sources = []
        if isinstance(task_spec, ScriptTask):
            sources.append(("script", task_spec.script or "", "exec"))
        for condition, _target in getattr(task_spec, "cond_task_specs", []):
            if isinstance(condition, str):
                sources.append(("condition", condition, "eval"))
        if isinstance(task_spec, ServiceTask):
            for name, param in (task_spec.operation_params or {}).items():
                sources.append((f"parameter {name!r}", param.get("value", ""), "eval"))
        for kind, source, mode in sources:
            error = check_script(source, mode)
            if error:
                raise DeployError(f"Invalid {kind} in {element_id!r}: {error}", element_id=element_id)


def _lanes(spec, subprocess_specs: dict) -> list[str]:
    lanes = []
    for each in [spec, *subprocess_specs.values()]:
        for task_spec in each.task_specs.values():
            lane = getattr(task_spec, "lane", None)
            if lane and lane not in lanes:
                lanes.append(lane)
    return lanes


def lane_warnings(lane_roles: dict) -> list[str]:
    """Warnings for lanes whose role is missing or names no existing group."""
    existing = set(Group.objects.filter(name__in=[g for g in lane_roles.values() if g]).values_list("name", flat=True))
    warnings = []
    for lane, group in lane_roles.items():
        if not group:
            warnings.append(f"Lane {lane!r} has no role: nobody can act on its tasks")
        elif group not in existing:
            warnings.append(f"Lane {lane!r} maps to role {group!r}, which does not exist")
    return warnings


def deploy(content: bytes, file_name: str = "upload.bpmn", user=None) -> Deployment:
    """Deploy every executable process in a BPMN file.

    The same process id gets a new version; content identical to an existing
    version returns that version unchanged.
    """
    tree, specs = parse_processes(content, file_name)
    content_hash = hashlib.sha256(content).hexdigest()
    xml_text = content.decode(tree.docinfo.encoding or "utf-8", errors="replace")
    definitions, created, warnings = [], False, []
    for process_id, (spec, subprocess_specs) in specs.items():
        existing = ProcessDefinition.objects.filter(process_id=process_id, content_hash=content_hash).first()
        if existing:
            definitions.append(existing)
            warnings.extend(existing.warnings)
            continue
        lanes = _lanes(spec, subprocess_specs)
        previous = ProcessDefinition.objects.filter(process_id=process_id).order_by("-version").first()
        lane_roles = {lane: (previous.lane_roles.get(lane, lane) if previous else lane) for lane in lanes}
        these_warnings = lane_warnings(lane_roles)
        for attempt in range(3):
            version = (previous.version + 1) if previous else 1
            try:
                with transaction.atomic():
                    definition = ProcessDefinition.objects.create(
                        process_id=process_id,
                        version=version,
                        name=spec.description or process_id,
                        bpmn_xml=xml_text,
                        file_name=file_name[:255],
                        content_hash=content_hash,
                        spec_json=spiff.dump_specs(spec, subprocess_specs),
                        lanes=lanes,
                        lane_roles=lane_roles,
                        warnings=these_warnings,
                        deployed_by=user if user is not None and user.is_authenticated else None,
                    )
                break
            except IntegrityError:
                # Another deploy of the same process took this version number.
                previous = ProcessDefinition.objects.filter(process_id=process_id).order_by("-version").first()
        else:
            raise DeployError(f"Could not allocate a version for {process_id!r}; try again")
        definitions.append(definition)
        warnings.extend(these_warnings)
        created = True
    return Deployment(definitions, created, warnings)


_spec_cache: dict[int, tuple] = {}


def specs_for(definition: ProcessDefinition):
    """The parsed (spec, subprocess_specs) of a definition version, cached per process."""
    specs = _spec_cache.get(definition.pk)
    if specs is None:
        specs = spiff.load_specs(definition.spec_json)
        _spec_cache[definition.pk] = specs
    return specs


def start_lane(definition: ProcessDefinition) -> str | None:
    """The lane of the process's start event, if it has one."""
    from SpiffWorkflow.bpmn.specs.defaults import StartEvent

    spec, _ = specs_for(definition)
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent) and getattr(task_spec, "lane", None):
            return task_spec.lane
    return None

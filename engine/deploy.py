"""Deploying BPMN files: safe parsing, validation and versioning."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from engine import decisions, modeler, prune, signals, spiff, task_columns, timers
from engine.models import DecisionDefinition, ProcessDefinition, StartTrigger
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
    """What deploying one upload produced."""

    definitions: list[ProcessDefinition]
    created: bool
    warnings: list[str] = field(default_factory=list)
    decisions: list[DecisionDefinition] = field(default_factory=list)


def parse_xml(content: bytes) -> etree._ElementTree:
    """Parse an untrusted BPMN file: no DTDs, no entities, no network, size capped."""
    tree = read_xml(content)
    root = tree.getroot()
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise DeployError(f"Not a BPMN 2.0 file: the root element is {root.tag!r}, expected bpmn:definitions")
    return tree


def read_xml(content: bytes) -> etree._ElementTree:
    """Parse untrusted XML (BPMN or DMN): no DTDs, no entities, no network, size capped."""
    limit = settings.LANEBRIDGE["MAX_BPMN_BYTES"]
    if len(content) > limit:
        raise DeployError(f"File is {len(content)} bytes; the limit is {limit} bytes (5 MB)")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        tree = etree.fromstring(content, parser).getroottree()
    except etree.XMLSyntaxError as exc:
        if "is not a valid URI" not in exc.msg:
            raise DeployError(f"Malformed XML: {exc.msg}", line=exc.lineno) from None
        # Some tools write namespace URIs with spaces; a namespace is only a name, so escape them and read on.
        try:
            tree = etree.fromstring(_escape_namespace_spaces(content), parser).getroottree()
        except etree.XMLSyntaxError as again:
            raise DeployError(f"Malformed XML: {again.msg}", line=again.lineno) from None
    # Entity declarations are the vector of XML bombs and external entities;
    # BPMN never needs them, so any DOCTYPE is refused outright.
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise DeployError("XML with a DOCTYPE or entity declarations is not allowed in BPMN or DMN files")
    return tree


_NAMESPACE_DECLARATION = re.compile(rb"""(\sxmlns(?::[\w.-]+)?\s*=\s*)("[^"]*"|'[^']*')""")


def _escape_namespace_spaces(content: bytes) -> bytes:
    """The file with spaces in its namespace URIs written as %20."""
    return _NAMESPACE_DECLARATION.sub(lambda m: m.group(1) + m.group(2).replace(b" ", b"%20"), content)


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


@dataclass
class Parsed:
    """A validated file: its tree, its executable processes, the bytes to store, and warnings."""

    tree: etree._ElementTree
    specs: dict
    content: bytes
    encoding: str
    warnings: list[str] = field(default_factory=list)
    # process id → the variables its tasks show as amount and customer.
    task_columns: dict[str, dict] = field(default_factory=dict)


def _model_error(exc: modeler.ModelError) -> DeployError:
    element = exc.element
    if element is None:
        return DeployError(exc.message)
    return DeployError(exc.message, element_id=element.get("id"), line=element.sourceline)


def _problems_error(problems: list[modeler.ModelError]) -> DeployError:
    """The first problem in full, and where the others are, so one upload shows them all."""
    error = _model_error(problems[0])
    first = problems[0].element
    seen = {first.get("id")} if first is not None else set()
    others = []
    for problem in problems[1:]:
        if problem.element is not None and problem.element.get("id") not in seen:
            seen.add(problem.element.get("id"))
            others.append(problem.element)
    if others:
        where = ", ".join(f"{e.get('id')!r} (line {e.sourceline})" for e in others[:10])
        more = f" and {len(others) - 10} more" if len(others) > 10 else ""
        error.message += f". {len(others)} more problem(s) in this file, at {where}{more}"
        error.args = (error.message,)
    # Validation lists each problem on its own.
    error.problems = [_model_error(problem) for problem in problems]
    return error


def parse_file(content: bytes, file_name: str = "upload.bpmn", bindings: dict[str, str] | None = None,
               decisions_in_upload: dict[str, str | None] | None = None) -> Parsed:
    """Validate a BPMN file, bind its service tasks to operations, and parse its executable processes.

    `decisions_in_upload` maps the ids of the decisions deployed with the file, which its business rule tasks may
    use, to their version tags.
    """
    global _validator
    tree = parse_xml(content)
    if _validator is None:
        _validator = BpmnValidator()
    try:
        _validator.validate(tree.getroot(), file_name)
    except ValidationException as exc:
        raise DeployError(f"Not valid BPMN 2.0: {exc.args[0] if exc.args else exc}", line=exc.line_number or None)
    _check_references(tree)
    encoding = tree.docinfo.encoding or "utf-8"
    try:
        processes = modeler.runnable_processes(tree)
        columns = {process.get("id"): task_columns.declared(process) for process in processes}
        if bindings:
            modeler.apply_bindings(tree, processes, bindings)
            # Store the bound file, so downloading and redeploying it needs no bindings.
            content, encoding = etree.tostring(tree, xml_declaration=True, encoding="UTF-8"), "utf-8"
        # From here on the tree is SpiffWorkflow's copy: data stores are removed from it, not from `content`.
        warnings = modeler.drop_data_stores(tree, processes)
        warnings += _tolerate(tree, processes)
        problems = [*modeler.problems(tree, processes), *modeler.translate_conditions(processes),
                    *modeler.untranslatable_assignments(processes),
                    *decisions.reference_problems(processes, decisions_in_upload or {})]
        warnings += decisions.result_warnings(processes)
    except modeler.ModelError as exc:
        raise _model_error(exc) from None
    if problems:
        raise _problems_error(problems)
    gateway_warnings, exclusive_gateways = modeler.conditionless_gateway_flows(processes)
    warnings += gateway_warnings
    _check_expressions(processes)
    modeler.first_true_flow_wins(exclusive_gateways)
    try:
        specs = prune.with_deep_stack(lambda: _parse_specs(tree, file_name), sum(1 for _ in tree.iter()))
    except ValidationException as exc:
        raise _validation_error(exc, tree) from None
    for spec, _subprocess_specs in specs.values():
        _check_start_events(spec, tree)
    warnings += modeler.unknown_operation_warnings(processes)
    return Parsed(tree, specs, content, encoding, warnings, columns)


def _tolerate(tree, processes) -> list[str]:
    """Rewrite what other tools draw and Camunda 7 runs into what SpiffWorkflow runs the same way; warn."""
    warnings = modeler.drop_placeholders(tree)
    warnings += modeler.pass_through_empty_subprocesses(processes)
    warnings += modeler.drop_user_task_data_associations(tree, processes)
    modeler.split_implicitly(processes)
    return warnings


def _parse_specs(tree, file_name: str) -> dict:
    parser = spiff.BpmnParser()
    parser.add_bpmn_xml(tree, file_name)
    process_ids = parser.get_process_ids()
    if not process_ids:
        raise DeployError("The file has no executable process: set isExecutable=\"true\" on the process to run")
    return {pid: (parser.get_spec(pid), parser.get_subprocess_specs(pid)) for pid in process_ids}


def parse_processes(content: bytes, file_name: str = "upload.bpmn") -> tuple[etree._ElementTree, dict]:
    """Validate a BPMN file and return {process_id: (spec, subprocess_specs)} for its executable processes."""
    parsed = parse_file(content, file_name)
    return parsed.tree, parsed.specs


SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def _expressions(processes) -> list[tuple[etree._Element, str, str, str]]:
    """Every script and expression of the processes: (element it belongs to, what it is, source, mode)."""
    ns = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
    found = []
    for process in processes:
        for script in process.iterfind(".//bpmn:scriptTask/bpmn:script", ns):
            found.append((script.getparent(), "script", script.text or "", "exec"))
        for condition in process.iterfind(".//bpmn:sequenceFlow/bpmn:conditionExpression", ns):
            found.append((condition.getparent(), "condition", condition.text or "", "eval"))
        for parameter in process.iterfind(".//bpmn:serviceTask//spiffworkflow:parameter", ns):
            task = next(parameter.iterancestors(f"{{{BPMN_NS}}}serviceTask"))
            found.append((task, f"parameter {parameter.get('id')!r}", parameter.get("value") or "", "eval"))
        for tag in (timers.DURATION, timers.DATE, timers.CYCLE):
            for timer in process.iterfind(f".//bpmn:timerEventDefinition/bpmn:{tag}", ns):
                found.append((timer.getparent().getparent(), "timer", (timer.text or "").strip(), tag))
    return found


def _syntax_hint(kind: str, source: str) -> str:
    """Name other engines' expression languages, so the analyst knows what to rewrite."""
    source = source.strip()
    if source.startswith(("${", "#{")):
        return "; it is a Camunda 7 (JUEL) expression, and Lanebridge expressions are Python, e.g. approved == True"
    if source.startswith("="):
        return "; it is a Camunda 8 (FEEL) expression, and Lanebridge expressions are Python, e.g. amount > 1000"
    if kind == "condition":
        return "; conditions are Python expressions over the process variables, e.g. amount > 1000"
    return ""


def _check_expressions(processes) -> None:
    """Compile every script and expression now, so a typo fails the deploy, not a running order."""
    for element, kind, source, mode in _expressions(processes):
        element_id = element.get("id")
        where = {"element_id": element_id, "line": element.sourceline}
        if not source.strip() and kind in ("timer", "condition"):
            what = "an ISO 8601 duration or date such as PT1H" if kind == "timer" else "a Python expression"
            raise DeployError(f"The {kind} of {element_id!r} is empty: write {what}", **where)
        if kind == "timer":
            _check_timer(mode, source, where)
            continue
        error = check_script(source.strip() if mode == "eval" else source, mode)
        if error:
            raise DeployError(f"Invalid {kind} in {element_id!r}: {error}{_syntax_hint(kind, source)}", **where)


def _check_timer(tag: str, source: str, where: dict) -> None:
    """A timer is ISO 8601 as modelers write it (plain or quoted), or a Python expression giving such text."""
    element_id = where["element_id"]
    iso = timers.iso_text(source)
    if iso is not None:
        error = timers.check(tag, iso)
        if error:
            raise DeployError(f"Invalid timer in {element_id!r}: {error}", **where)
        return
    error = check_script(source.strip(), "eval")
    if error:
        hint = _syntax_hint("timer", source)
        raise DeployError(f"Invalid timer in {element_id!r}: {error}; write ISO 8601 such as "
                          f"{timers.EXAMPLES[tag]}, or a Python expression giving such text{hint}", **where)


# SpiffWorkflow names its own task specs so; an element with such an id breaks every start.
RESERVED_IDS = {"Start", "End", "Root"}


def _check_references(tree) -> None:
    """A sequence flow must join two existing elements; SpiffWorkflow's own message blames the source."""
    ids = set(tree.xpath("//@id"))
    for reserved in sorted(RESERVED_IDS & ids):
        element = tree.xpath("//*[@id=$id]", id=reserved)[0]
        raise DeployError(f"The id {reserved!r} is reserved by the engine; rename the element",
                          element_id=reserved, line=element.sourceline)
    for flow in tree.iterfind(f".//{{{BPMN_NS}}}sequenceFlow"):
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if ref not in ids:
                raise DeployError(
                    f"Sequence flow {flow.get('id')!r} has {end} {ref!r}, which is not an element of this file",
                    element_id=flow.get("id"), line=flow.sourceline)


def _lanes(tree, spec, subprocess_specs: dict) -> list[str]:
    """Lane names in the diagram's order (the order analysts drew them)."""
    used = {getattr(t, "lane", None) for each in [spec, *subprocess_specs.values()] for t in each.task_specs.values()}
    drawn = [lane.get("name") for lane in tree.iterfind(f".//{{{BPMN_NS}}}lane")]
    return [name for name in dict.fromkeys(drawn) if name in used]


def _lane_roles(process_id: str, lanes: list[str]) -> dict:
    """Each lane's role: as the latest version of the process maps it, else the group named like the lane."""
    previous = ProcessDefinition.objects.filter(process_id=process_id).order_by("-version").first()
    return {lane: (previous.lane_roles.get(lane, lane) if previous else lane) for lane in lanes}


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


def parse_bindings(text: str | None) -> dict[str, str] | None:
    """Read the `bindings` form field: a JSON object of service task id → operation name, or nothing."""
    if text is None or not str(text).strip():
        return None
    example = '{"archiveInvoice": "erp.archive_invoice"}'
    try:
        bindings = json.loads(text)
    except RecursionError:
        raise DeployError(f"Bindings are nested too deeply; write an object such as {example}") from None
    except ValueError as exc:
        raise DeployError(f"Bindings are not valid JSON ({exc}); write an object such as {example}") from None
    if not isinstance(bindings, dict) or not all(isinstance(v, str) for v in bindings.values()):
        raise DeployError(f"Bindings must map service task ids to operation names, such as {example}")
    return bindings


def parse_mappings(raw: bytes | str | None) -> dict | None:
    """Read an uploaded field-mappings file: a JSON object, or nothing."""
    if raw is None or not (raw.strip() if isinstance(raw, (bytes, str)) else raw):
        return None
    try:
        mappings = json.loads(raw)
    except RecursionError:
        raise DeployError("Field mappings are nested too deeply") from None
    except ValueError as exc:
        raise DeployError(f"Field mappings are not valid JSON: {exc}") from None
    if not isinstance(mappings, dict):
        raise DeployError("Field mappings must be a JSON object")
    return mappings


def deploy(content: bytes, file_name: str = "upload.bpmn", user=None,
           bindings: dict[str, str] | None = None, mappings: dict | None = None,
           tests: list[dict] | None = None) -> Deployment:
    """Deploy every executable process in a BPMN file, or every decision in a DMN file.

    `bindings` maps service task ids to connector operation names, for files
    drawn without them; the file is stored with the bindings written into it.
    `mappings` are field mappings versioned with the process (checked by the
    apps that use them). The same process id gets a new version; content identical to an existing
    version returns that version unchanged. `tests` are process test cases
    (`engine.process_tests`): the version is stored only if every one passes.
    """
    return deploy_files([(file_name, content)], user, bindings, mappings, tests)


def deploy_files(files: list[tuple[str, bytes]], user=None, bindings: dict[str, str] | None = None,
                 mappings: dict | None = None, tests: list[dict] | None = None) -> Deployment:
    """Deploy one upload: at most one BPMN file and the DMN files it uses, all of it or, on a problem, nothing.

    The test cases run against the whole upload, so they decide with its decisions.
    """
    if tests:
        from engine import process_tests

        process_tests.check(tests, lambda: deploy_files(files, user, bindings, mappings), user)
    bpmn, dmn = _read_upload(files)
    decided = [_parse_dmn(content, name) for name, content in dmn]
    parsed = parse_file(bpmn[1], bpmn[0], bindings, _decision_ids(decided)) if bpmn else None
    with transaction.atomic():
        stored, created = [], False
        for (name, content), (encoding, found) in zip(dmn, decided, strict=True):
            try:
                rows, any_new = decisions.store(found, content, content.decode(encoding, errors="replace"), name,
                                                user)
            except modeler.ModelError as exc:
                raise _model_error(exc) from None
            stored += rows
            created = created or any_new
        # A process bound to its upload's decisions is a new version when they change, as in Camunda 7.
        bound = parsed and decisions.bind_to_upload(parsed.specs, stored)
        together = "".join(sorted({row.content_hash for row in stored})).encode() if bound else b""
        deployment = (_deploy_processes(parsed, bpmn[0], user, mappings, together) if parsed
                      else Deployment([], False))
    deployment.decisions = stored
    deployment.created = deployment.created or created
    return deployment


def _read_upload(files: list[tuple[str, bytes]]) -> tuple[tuple[str, bytes] | None, list[tuple[str, bytes]]]:
    """The upload's BPMN file (or None) and its DMN files; one BPMN file at most."""
    bpmn, dmn = [], []
    for name, content in files:
        try:
            tree = read_xml(content)
        except DeployError as exc:
            if len(files) > 1:
                exc.message = f"{name}: {exc.message}"
                exc.args = (exc.message,)
            raise
        (dmn if decisions.is_dmn(tree) else bpmn).append((name, content))
    if len(bpmn) > 1:
        raise DeployError(f"Upload one BPMN file at a time (with the DMN files it uses), not {len(bpmn)}: "
                          f"{', '.join(name for name, _ in bpmn)}")
    return (bpmn[0] if bpmn else None), dmn


_dmn_validators: dict[str, BpmnValidator] = {}


def _parse_dmn(content: bytes, file_name: str) -> tuple[str, list[decisions.Decision]]:
    """Validate a DMN file and translate its decision tables; (the file's encoding, its decisions)."""
    tree = read_xml(content)
    if decisions.unread_version(tree):
        raise DeployError(f"{file_name}: DMN of the namespace {decisions.unread_version(tree)!r} is not read; save "
                          "it as DMN 1.3, 1.2 or 1.1 (Camunda Modeler writes DMN 1.3)")
    schema = decisions.schema_file(tree)
    if schema not in _dmn_validators:
        _dmn_validators[schema] = BpmnValidator(schema)
    try:
        _dmn_validators[schema].validate(tree.getroot(), file_name)
    except ValidationException as exc:
        raise DeployError(f"Not valid DMN: {exc.args[0] if exc.args else exc}", line=exc.line_number or None) from None
    try:
        found = decisions.read_decisions(tree)
    except modeler.ModelError as exc:
        raise _model_error(exc) from None
    return tree.docinfo.encoding or "utf-8", found


def _decision_ids(decided: list[tuple[str, list[decisions.Decision]]]) -> dict[str, str | None]:
    """The decision ids of the upload's DMN files, with their version tags; one id in two files is refused."""
    ids: dict[str, str | None] = {}
    for _encoding, found in decided:
        for decision in found:
            if decision.decision_id in ids:
                raise DeployError(f"Two DMN files of this upload define decision {decision.decision_id!r}")
            ids[decision.decision_id] = decision.table.get("version_tag")
    return ids


def _deploy_processes(parsed: Parsed, file_name: str, user, mappings: dict | None,
                      together: bytes = b"") -> Deployment:
    """Store each process of a parsed BPMN file as a new version, or find the version with the same content."""
    tree, specs, content = parsed.tree, parsed.specs, parsed.content
    mappings = mappings or {}
    if not isinstance(mappings, dict):
        raise DeployError("Field mappings must be a JSON object")
    signals.definition_deploying.send(sender=ProcessDefinition, process_ids=list(specs), mappings=mappings)
    # Changed mappings make a new version as changed BPMN does.
    content_hash = hashlib.sha256(content + json.dumps(mappings, sort_keys=True).encode() + together).hexdigest()
    xml_text = content.decode(parsed.encoding, errors="replace")
    definitions, created, warnings = [], False, []
    for process_id, (spec, subprocess_specs) in specs.items():
        existing = ProcessDefinition.objects.filter(process_id=process_id, content_hash=content_hash).first()
        if existing:
            definitions.append(existing)
            warnings.extend(existing.warnings)
            continue
        lanes = _lanes(tree, spec, subprocess_specs)
        previous = ProcessDefinition.objects.filter(process_id=process_id).order_by("-version").first()
        lane_roles = _lane_roles(process_id, lanes)
        these_warnings = parsed.warnings + lane_warnings(lane_roles)
        for _attempt in range(3):
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
                        mappings=mappings,
                        task_columns=parsed.task_columns.get(process_id, {}),
                        deployed_by=user if user is not None and user.is_authenticated else None,
                    )
                    _replace_start_triggers(definition, spec)
                break
            except IntegrityError:
                # Another deploy of the same process took this version number.
                previous = ProcessDefinition.objects.filter(process_id=process_id).order_by("-version").first()
        else:
            raise DeployError(f"Could not allocate a version for {process_id!r}; try again")
        definitions.append(definition)
        warnings.extend(these_warnings)
        created = True
    # One file's warnings are stored on each of its processes; say each once.
    return Deployment(definitions, created, list(dict.fromkeys(warnings)))


TIMER_KINDS = {"timer_duration": timers.DURATION, "timer_date": timers.DATE, "timer_cycle": timers.CYCLE}


def _check_start_events(spec, tree) -> None:
    """A timer start event must say its time as ISO 8601: no instance exists yet whose variables an expression reads."""
    for element_id, kind, value in spiff.event_starts(spec):
        if kind not in TIMER_KINDS:
            continue
        found = tree.xpath("//*[@id=$id]", id=element_id)
        where = {"element_id": element_id, "line": found[0].sourceline if found else None}
        iso = timers.iso_text(value)
        if iso is None:
            raise DeployError(f"Timer start event {element_id!r} must give its time as ISO 8601 text such as "
                              f"{timers.EXAMPLES[TIMER_KINDS[kind]]}, not an expression: no instance exists yet "
                              "whose variables it could read", **where)
        error = timers.check(TIMER_KINDS[kind], iso)
        if error:
            raise DeployError(f"Invalid timer in {element_id!r}: {error}", **where)


def _replace_start_triggers(definition: ProcessDefinition, spec) -> None:
    """The new version's message, signal and timer start events replace the previous version's."""
    StartTrigger.objects.filter(process_id=definition.process_id).delete()
    now = timezone.now()
    triggers = []
    for element_id, kind, value in spiff.event_starts(spec):
        trigger = StartTrigger(definition=definition, process_id=definition.process_id, element_id=element_id,
                               kind=kind, name=value)
        if kind in TIMER_KINDS:
            iso = timers.iso_text(value)
            plan = timers.schedule(TIMER_KINDS[kind], iso, now)
            trigger.kind, trigger.name, trigger.due_at = StartTrigger.TIMER, iso, plan.first
            trigger.every_seconds = plan.every.total_seconds() if plan.every else None
            trigger.remaining = plan.repeats
        triggers.append(trigger)
    StartTrigger.objects.bulk_create(triggers)


def validate(content: bytes, file_name: str = "upload.bpmn", bindings: str | None = None,
             mappings: bytes | None = None, tests: bytes | None = None, user=None) -> dict:
    """Everything deploying this file would refuse or warn about, without storing anything.

    Returns {"problems": [{"element_id", "line", "message", "severity"}], "warnings": [...]};
    with `tests` (a test case file) each failing case is a problem too.
    """
    return validate_files([(file_name, content)], bindings, mappings, tests, user)


def validate_files(files: list[tuple[str, bytes]], bindings: str | None = None, mappings: bytes | None = None,
                   tests: bytes | None = None, user=None) -> dict:
    """Everything deploying this upload (a BPMN file and the DMN files it uses) would refuse or warn about."""
    warnings: list[str] = []
    try:
        bpmn, dmn = _read_upload(files)
        in_upload = _decision_ids([_parse_dmn(content, name) for name, content in dmn])
        if bpmn is None:
            return {"problems": [], "warnings": []}
        content, file_name = bpmn[1], bpmn[0]
        parsed = parse_file(content, file_name, parse_bindings(bindings), in_upload)
        warnings = list(parsed.warnings)
        for process_id, (spec, subprocess_specs) in parsed.specs.items():
            warnings += lane_warnings(_lane_roles(process_id, _lanes(parsed.tree, spec, subprocess_specs)))
        signals.definition_deploying.send(sender=ProcessDefinition, process_ids=list(parsed.specs),
                                          mappings=parse_mappings(mappings) or {})
    except DeployError as exc:
        errors = getattr(exc, "problems", None) or [exc]
        problems = [{"element_id": e.element_id, "line": e.line, "message": e.message, "severity": "error"}
                    for e in errors]
        return {"problems": problems, "warnings": list(dict.fromkeys(warnings))}
    problems = _test_case_problems(files, bindings, mappings, tests, user) if tests is not None else []
    return {"problems": problems, "warnings": list(dict.fromkeys(warnings))}


def _test_case_problems(files, bindings, mappings, tests: bytes, user) -> list[dict]:
    from engine import process_tests

    def problem(message: str) -> dict:
        return {"element_id": None, "line": None, "message": message, "severity": "error"}

    try:
        cases = process_tests.parse_cases(tests)
        results = process_tests.run_cases(cases, lambda: deploy_files(
            files, user, parse_bindings(bindings), parse_mappings(mappings)), user)
    except DeployError as exc:
        return [problem(exc.message)]
    return [problem(f"Test case {r.name!r} failed: {' '.join(r.differences)}") for r in results if not r.passed]


_spec_cache: dict[tuple, tuple] = {}


def specs_for(definition: ProcessDefinition):
    """The parsed (spec, subprocess_specs) of a definition version, cached per process."""
    # The key holds more than the pk: a rolled-back deploy's pk can be reused by the next one.
    key = (definition.pk, definition.process_id, definition.content_hash)
    specs = _spec_cache.get(key)
    if specs is None:
        specs = spiff.load_specs(definition.spec_json)
        _spec_cache[key] = specs
    return specs


def start_lane(definition: ProcessDefinition) -> str | None:
    """The lane of the process's start event, if it has one."""
    from SpiffWorkflow.bpmn.specs.defaults import StartEvent

    spec, _ = specs_for(definition)
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, StartEvent) and getattr(task_spec, "lane", None):
            return task_spec.lane
    return None

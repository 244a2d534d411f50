"""What files drawn in other modeling tools need before SpiffWorkflow parses them.

Camunda Modeler, Signavio, Bizagi… write valid BPMN that SpiffWorkflow either
rejects with a message naming no element, or worse, parses and then runs
wrongly. Every check here works on the XML, so its error names the element
and its line, and runs before SpiffWorkflow sees the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from engine import compensation, connectors, expressions, links

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
# A connector operation name: dotted words, as in engine.connectors.
OPERATION_NAME = re.compile(r"^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$")
# Flow nodes SpiffWorkflow builds a task for; anything else drawn in a process cannot run.
RUNNABLE_NODES = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask", "businessRuleTask",
    "subProcess", "transaction", "callActivity",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
}
FLOW_NODE = re.compile(r"(Task|Event|Gateway|SubProcess|Activity|Choreography)$|^(subProcess|transaction)$")


class ModelError(Exception):
    """A problem in the drawing; engine.deploy turns it into a DeployError."""

    def __init__(self, message: str, element: etree._Element | None = None):
        super().__init__(message)
        self.message = message
        self.element = element


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _words(tag: str) -> str:
    """userTask → user task, for messages analysts read."""
    if tag == "subProcess":
        return "sub-process"
    return re.sub(r"(?<!^)([A-Z])", r" \1", tag).lower()


def describe(element: etree._Element, capital: bool = False) -> str:
    """"service task 'archiveInvoice' ("Archive Invoice", line 570)"."""
    name = " ".join((element.get("name") or "").split())
    where = f'"{name}", line {element.sourceline}' if name else f"line {element.sourceline}"
    kind = _words(local(element))
    kind = kind[:1].upper() + kind[1:] if capital else kind
    return f"{kind} {element.get('id')!r} ({where})"


def _bpmn(element: etree._Element, name: str) -> list[etree._Element]:
    """Descendants of `element` with the BPMN tag `name`, in document order."""
    return list(element.iter(f"{{{BPMN_NS}}}{name}"))


def runnable_processes(tree: etree._ElementTree) -> list[etree._Element]:
    """The executable processes and the processes their call activities call, in document order.

    Raises ModelError naming the processes found when none is executable.
    """
    processes = _bpmn(tree.getroot(), "process")
    by_id = {p.get("id"): p for p in processes}
    # SpiffWorkflow's own rule: a missing isExecutable counts as executable.
    todo = [p for p in processes if p.get("isExecutable", "true") == "true" and not _is_placeholder(p)]
    if not todo:
        if not processes:
            raise ModelError("The file has no process, only a diagram: draw a process (pool) with a start event")
        found = ", ".join(describe(p) for p in processes)
        raise ModelError(
            f"The file has no executable process; it has {found}. Set isExecutable=\"true\" on the process "
            "to run (in Camunda Modeler: the \"Executable\" checkbox of the process)",
            processes[0],
        )
    seen: set[str] = set()
    while todo:
        process = todo.pop()
        if process.get("id") in seen:
            continue
        seen.add(process.get("id"))
        todo.extend(by_id[c.get("calledElement")] for c in _bpmn(process, "callActivity")
                    if c.get("calledElement") in by_id)
    return [p for p in processes if p.get("id") in seen]


def _operator(task: etree._Element) -> str | None:
    """The connector operation a service task names, if any."""
    operator = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
    if operator is not None:
        return operator.get("id")
    return task.get(f"{{{CAMUNDA_NS}}}topic")


def apply_bindings(tree: etree._ElementTree, processes: list[etree._Element], bindings: dict[str, str]) -> None:
    """Bind service tasks to connector operations by writing ``camunda:topic`` on them.

    The rewritten file is what gets stored, so a redeploy of it needs no bindings.
    """
    tasks = {t.get("id"): t for p in processes for t in _bpmn(p, "serviceTask")}
    for element_id, operation in bindings.items():
        if not isinstance(operation, str) or not OPERATION_NAME.match(operation):
            raise ModelError(f"Binding for {element_id!r}: {operation!r} is not an operation name such as "
                             "\"erp.create_sales_order\"")
        task = tasks.get(element_id)
        if task is None:
            raise ModelError(f"Binding for {element_id!r}: no service task with that id in an executable process "
                             f"of this file; service tasks: {', '.join(tasks) or 'none'}")
        if task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS) is not None:
            raise ModelError(f"Binding for {element_id!r}: {describe(task)} already names its operation in "
                             "spiffworkflow:serviceTaskOperator; remove the binding or the operator", task)
        task.set(f"{{{CAMUNDA_NS}}}topic", operation)
    # Declare the prefix once on the root, so the stored file reads camunda:topic, not ns0:topic.
    etree.cleanup_namespaces(tree, top_nsmap={"camunda": CAMUNDA_NS})


def check_unsupported(processes: list[etree._Element]) -> Iterator[ModelError]:
    """Refuse what SpiffWorkflow cannot run, or would run wrongly without a word."""
    for process in processes:
        for element in process.iter():
            if not isinstance(element.tag, str) or etree.QName(element).namespace != BPMN_NS:
                continue
            tag = local(element)
            if tag == "complexGateway":
                yield ModelError(f"{describe(element, capital=True)}: Lanebridge cannot run complex gateways; "
                                 "use an exclusive, inclusive or parallel gateway", element)
            elif FLOW_NODE.search(tag) and tag not in RUNNABLE_NODES:
                yield ModelError(f"{describe(element, capital=True)}: Lanebridge cannot run a {_words(tag)}; "
                                 "replace it with an element it supports", element)


def check_links(processes: list[etree._Element]) -> Iterator[ModelError]:
    """Every link throw event has a link catch event of its name at its level (see engine.links)."""
    for message, element in links.problems(processes):
        yield ModelError(f"{describe(element, capital=True)} {message}", element)


def check_compensation(processes: list[etree._Element]) -> Iterator[ModelError]:
    """Compensation boundaries have handlers, handlers have boundaries, throws name activities of their level."""
    for message, element in compensation.problems(processes):
        yield ModelError(f"{describe(element, capital=True)} {message}", element)


def check_structure(processes: list[etree._Element]) -> Iterator[ModelError]:
    """Sub-processes with steps need a start event; loops and multi-instance need to know how often to run."""
    for process in processes:
        for sub in _bpmn(process, "subProcess") + _bpmn(process, "transaction"):
            starts = sub.findall("bpmn:startEvent", NS)
            if sub.get("triggeredByEvent") == "true":
                yield from _check_event_subprocess(sub, starts)
            elif len(starts) != 1:
                problem = "has no start event" if not starts else f"has {len(starts)} start events"
                yield ModelError(f"{describe(sub, capital=True)} {problem}: draw exactly one start event inside "
                                 "it, connected to its first step", sub)
        for loop in _bpmn(process, "multiInstanceLoopCharacteristics"):
            if loop.find("bpmn:loopCardinality", NS) is None and loop.find("bpmn:loopDataInputRef", NS) is None \
                    and loop.get(f"{{{CAMUNDA_NS}}}collection") is None:
                task = loop.getparent()
                foreign = [name for name in ("collection", "inputCollection") if any(
                    name in attr for e in loop.iter() if isinstance(e.tag, str) for attr in e.attrib)]
                hint = (f" (the {foreign[0]!r} of another engine is not read)" if foreign else "")
                yield ModelError(f"{describe(task, capital=True)} is multi-instance but says neither how many "
                                 "instances to run nor over which list: add a loop cardinality (e.g. 3) or a "
                                 f"loopDataInputRef naming a list variable{hint}", task)
        for loop in _bpmn(process, "standardLoopCharacteristics"):
            if loop.get("loopMaximum") is None and loop.find("bpmn:loopCondition", NS) is None:
                task = loop.getparent()
                yield ModelError(f"{describe(task, capital=True)} loops but has neither a loopMaximum nor a loop "
                                 "condition, so it would never know when to stop: add one", task)


# What can start an event sub-process (engine.event_subprocess), and whether it may go on beside the process.
EVENT_SUBPROCESS_STARTS = {"messageEventDefinition": True, "timerEventDefinition": True,
                           "signalEventDefinition": True, "errorEventDefinition": False}


def _check_event_subprocess(sub: etree._Element, starts: list[etree._Element]) -> Iterator[ModelError]:
    """An event sub-process has one start event, with a message, timer, signal or error (errors interrupt)."""
    if len(starts) != 1:
        problem = "has no start event" if not starts else f"has {len(starts)} start events"
        yield ModelError(f"Event sub-process {sub.get('id')!r} {problem}: draw exactly one start event with the "
                         "message, timer, signal or error that starts it", sub)
        return
    start = starts[0]
    kinds = [local(e) for e in start if isinstance(e.tag, str) and local(e).endswith("EventDefinition")]
    if kinds == ["compensateEventDefinition"]:
        return  # a compensation throw runs it (engine.compensation)
    if len(kinds) != 1 or kinds[0] not in EVENT_SUBPROCESS_STARTS:
        what = "no event" if not kinds else " and ".join(_words(k.replace("EventDefinition", "")) for k in kinds)
        yield ModelError(f"{describe(start, capital=True)} starts event sub-process {sub.get('id')!r} with {what}: "
                         "Lanebridge starts event sub-processes by one message, timer, signal or error", start)
    elif start.get("isInterrupting", "true") == "false" and not EVENT_SUBPROCESS_STARTS[kinds[0]]:
        yield ModelError(f"{describe(start, capital=True)} is a non-interrupting error start event: an error "
                         "always interrupts (BPMN 2.0); remove isInterrupting=\"false\"", start)


def _association_end(association: etree._Element) -> etree._Element | None:
    """The data element an association reads from (input) or writes to (output)."""
    end = "sourceRef" if local(association) == "dataInputAssociation" else "targetRef"
    return association.find(f"bpmn:{end}", NS)


def drop_data_stores(tree: etree._ElementTree, processes: list[etree._Element]) -> list[str]:
    """Remove data stores and the associations to them from the tree SpiffWorkflow parses; return warnings.

    Lanebridge has no storage behind a data store: the systems it talks to are reached through
    connectors. A drawn data store is documentation, and ignoring it only means the task does
    not read or write it; the warning says so at deploy.
    """
    ids = {e.get("id"): e for e in tree.getroot().iter() if isinstance(e.tag, str) and e.get("id")}
    ignored: dict[str, list[str]] = {}
    for process in processes:
        for association in _bpmn(process, "dataInputAssociation") + _bpmn(process, "dataOutputAssociation"):
            ref = _association_end(association)
            target = ids.get((ref.text or "").strip()) if ref is not None else None
            if target is None or local(target) not in ("dataStoreReference", "dataStore"):
                continue
            store = ids.get(target.get("dataStoreRef") or "", target)
            name = " ".join((store.get("name") or target.get("name") or store.get("id")).split())
            ignored.setdefault(name, []).append(association.getparent().get("id"))
            association.getparent().remove(association)
    # SpiffWorkflow refuses every data store it has no implementation for, drawn or used.
    for store in _bpmn(tree.getroot(), "dataStore"):
        store.getparent().remove(store)
    return [
        f"Data store {name!r} is ignored: Lanebridge does not read or write data stores, so "
        f"{', '.join(repr(t) for t in dict.fromkeys(tasks))} will not use it. Call the system from a service task"
        for name, tasks in ignored.items()
    ]


def check_data_associations(tree: etree._ElementTree, processes: list[etree._Element]) -> Iterator[ModelError]:
    """Every remaining data association must connect to a data object reference."""
    ids = {e.get("id"): e for e in tree.getroot().iter() if isinstance(e.tag, str) and e.get("id")}
    for process in processes:
        for association in _bpmn(process, "dataInputAssociation") + _bpmn(process, "dataOutputAssociation"):
            ref = _association_end(association)
            if ref is None:
                continue
            target = ids.get((ref.text or "").strip())
            if target is not None and local(target) == "dataObjectReference" and target.get("dataObjectRef") in ids:
                continue
            owner = association.getparent()
            direction = "reads from" if local(association) == "dataInputAssociation" else "writes to"
            what = f"a {_words(local(target))}" if target is not None else "no element of this file"
            yield ModelError(f"{describe(owner, capital=True)} {direction} {(ref.text or '').strip()!r}, which is "
                             f"{what}: Lanebridge moves data only through data object references. Connect the "
                             "association to a data object reference, or delete it", owner)


def check_service_tasks(processes: list[etree._Element]) -> Iterator[ModelError]:
    """Every service task must name a connector operation; list all that do not, with how to bind them."""
    unbound = [t for p in processes for t in _bpmn(p, "serviceTask") if not _operator(t)]
    if unbound:
        names = "; ".join(describe(t) for t in unbound)
        example = ", ".join(f'"{t.get("id")}": "erp.some_operation"' for t in unbound[:2])
        yield ModelError(
            f"{len(unbound)} service task(s) name no connector operation: {names}. Bind each to an operation "
            f"when deploying (bindings {{{example}}}), or set spiffworkflow:serviceTaskOperator or camunda:topic "
            "in the file",
            unbound[0],
        )


def check_events(tree: etree._ElementTree, processes: list[etree._Element]) -> Iterator[ModelError]:
    """Every message and signal event names a declared message or signal; an event-based gateway leads to catches.

    SpiffWorkflow would otherwise wait for a message named after the element, which nobody sends.
    """
    declared = {tag: {e.get("id"): e for e in _bpmn(tree.getroot(), tag)} for tag in ("message", "signal")}
    for process in processes:
        for tag, ref_attr in (("messageEventDefinition", "messageRef"), ("signalEventDefinition", "signalRef")):
            kind = tag.replace("EventDefinition", "")
            for definition in _bpmn(process, tag):
                owner = definition.getparent()
                yield from _check_ref(owner, kind, definition.get(ref_attr), declared[kind])
        for task in _bpmn(process, "receiveTask"):
            yield from _check_ref(task, "message", task.get("messageRef"), declared["message"])
        flows = _bpmn(process, "sequenceFlow")
        by_id = {e.get("id"): e for e in process.iter() if isinstance(e.tag, str) and e.get("id")}
        for gateway in _bpmn(process, "eventBasedGateway"):
            for flow in flows:
                target = by_id.get(flow.get("targetRef"))
                if flow.get("sourceRef") != gateway.get("id") or target is None:
                    continue
                if local(target) == "receiveTask" or (local(target) == "intermediateCatchEvent" and any(
                        local(c) in ("messageEventDefinition", "signalEventDefinition", "timerEventDefinition")
                        for c in target if isinstance(c.tag, str))):
                    continue
                yield ModelError(f"{describe(gateway, capital=True)} leads to {describe(target)}: an event-based "
                                 "gateway must lead to message, signal or timer catch events or receive tasks", target)


# Elements that wait for a message or signal; a throw without one sends it under the element's name.
CATCHING = {"intermediateCatchEvent", "boundaryEvent", "startEvent", "receiveTask"}


def _check_ref(owner: etree._Element, kind: str, ref: str | None, declared: dict) -> Iterator[ModelError]:
    if not ref:
        if local(owner) not in CATCHING:
            return
        yield ModelError(f"{describe(owner, capital=True)} waits for a {kind} but names none: choose the "
                         f"{kind} (its {kind}Ref), or nothing could ever reach it", owner)
    elif ref not in declared:
        yield ModelError(f"{describe(owner, capital=True)} names {kind} {ref!r}, which this file does not declare: "
                         f"add a bpmn:{kind} with that id", owner)
    elif not (declared[ref].get("name") or "").strip():
        yield ModelError(f"{_words(kind).capitalize()} {ref!r} used by {describe(owner)} has no name: name it, since "
                         f"{kind}s are sent by name", owner)


def problems(tree: etree._ElementTree, processes: list[etree._Element]) -> list[ModelError]:
    """Everything in the processes Lanebridge cannot run, most fundamental first.

    Call after drop_data_stores, whose ignored associations are not problems.
    """
    return [*check_unsupported(processes), *check_links(processes), *check_compensation(processes),
            *check_structure(processes),
            *check_events(tree, processes),
            *check_data_associations(tree, processes), *check_service_tasks(processes)]


def unknown_operation_warnings(processes: list[etree._Element]) -> list[str]:
    """Operations no connector registers in this process; the worker may still register them."""
    known = set(connectors.operation_names())
    return [
        f"{describe(t, capital=True)} calls {_operator(t)!r}, which no connector registers here; its calls "
        "fail until a worker registers it"
        for p in processes for t in _bpmn(p, "serviceTask") if _operator(t) and _operator(t) not in known
    ]


# Tolerant import: what modeling tools draw and Camunda 7 runs, rewritten in SpiffWorkflow's copy of the tree
# into the plain BPMN SpiffWorkflow runs the same way. The stored file keeps the analyst's drawing.

# Tasks whose data is their form (user, manual) or their call's parameters and result (service, send,
# business rule): Camunda 7 ignores their data associations, and so do we, with a warning.
CALL_DATA = "its parameters and result variable"
ACTIVITY_DATA_OWNERS = {"userTask": "the task's form", "manualTask": "the task's form", "serviceTask": CALL_DATA,
                        "sendTask": CALL_DATA, "businessRuleTask": "its decision's inputs and result variable"}


def _draws_steps(element: etree._Element) -> bool:
    """Whether any flow node is drawn inside the element."""
    return any(isinstance(e.tag, str) and (local(e) in RUNNABLE_NODES or FLOW_NODE.search(local(e)))
               for e in element.iterdescendants())


def _is_placeholder(process: etree._Element) -> bool:
    """A process some tools write beside the real one: no isExecutable and nothing drawn in it."""
    return process.get("isExecutable") is None and not _draws_steps(process)


def drop_placeholders(tree: etree._ElementTree) -> list[str]:
    """Remove empty processes not marked executable, which SpiffWorkflow would refuse; return warnings."""
    warnings = []
    for process in _bpmn(tree.getroot(), "process"):
        if _is_placeholder(process):
            warnings.append(f"{describe(process, capital=True)} is empty and not marked executable: skipped")
            process.getparent().remove(process)
    return warnings


def _containers(process: etree._Element) -> list[etree._Element]:
    """The process and each sub-process in it: the elements whose children sequence flows connect."""
    return [process, *_bpmn(process, "subProcess"), *_bpmn(process, "transaction"), *_bpmn(process, "adHocSubProcess")]


def _outgoing(container: etree._Element) -> dict[str, list[etree._Element]]:
    """Sequence flows of this container by their source, in document order."""
    flows: dict[str, list[etree._Element]] = {}
    for flow in container.findall("bpmn:sequenceFlow", NS):
        flows.setdefault(flow.get("sourceRef"), []).append(flow)
    return flows


def _condition(flow: etree._Element) -> etree._Element | None:
    return flow.find("bpmn:conditionExpression", NS)


def pass_through_empty_subprocesses(processes: list[etree._Element]) -> list[str]:
    """Run a collapsed or empty sub-process (nothing drawn inside it) as a task that does nothing."""
    warnings = []
    for process in processes:
        for sub in _bpmn(process, "subProcess") + _bpmn(process, "transaction"):
            attached = any(b.get("attachedToRef") == sub.get("id") for b in _bpmn(process, "boundaryEvent"))
            if sub.get("triggeredByEvent") == "true" or attached or _draws_steps(sub):
                continue
            warnings.append(f"{describe(sub, capital=True)} has nothing drawn inside it: it is passed through "
                            "without doing anything")
            # A none intermediate event passes the token on at once; a plain task would wait for a person.
            sub.tag = f"{{{BPMN_NS}}}intermediateThrowEvent"
            for child in sub:
                if not isinstance(child.tag, str) or local(child) not in ("incoming", "outgoing", "documentation"):
                    sub.remove(child)
    return warnings


def split_implicitly(processes: list[etree._Element]) -> None:
    """Put a gateway after an activity or event with several outgoing flows, as BPMN means them.

    Unconditional flows all get a token (a parallel split); if some carry a condition, every flow whose
    condition holds gets one (an inclusive split, with the activity's default flow as the gateway's).
    """
    ids = {e.get("id") for p in processes for e in p.iter() if isinstance(e.tag, str)}
    for process in processes:
        for container in _containers(process):
            flows = _outgoing(container)
            for node in list(container):
                if not isinstance(node.tag, str) or "Gateway" in local(node) or not (
                        local(node) in RUNNABLE_NODES or FLOW_NODE.search(local(node))):
                    continue
                leaving = flows.get(node.get("id"), [])
                if len(leaving) < 2:
                    continue
                conditional = node.get("default") or any(_condition(f) is not None for f in leaving)
                gateway_id = f"{node.get('id')}_split"
                while gateway_id in ids:
                    gateway_id += "_"
                ids.add(gateway_id)
                kind = "inclusiveGateway" if conditional else "parallelGateway"
                gateway = etree.Element(f"{{{BPMN_NS}}}{kind}", id=gateway_id)
                if node.get("default"):
                    gateway.set("default", node.attrib.pop("default"))
                node.addnext(gateway)
                for flow in leaving:
                    flow.set("sourceRef", gateway_id)
                gateway.addnext(etree.Element(f"{{{BPMN_NS}}}sequenceFlow", id=f"{gateway_id}_in",
                                              sourceRef=node.get("id"), targetRef=gateway_id))


def conditionless_gateway_flows(processes: list[etree._Element]) -> tuple[list[str], list[etree._Element]]:
    """Give a gateway's flow without condition (not its default) the condition true, as Camunda 7 does.

    Returns warnings, and the exclusive gateways that got such a flow (see `first_true_flow_wins`).
    """
    warnings, exclusive = [], []
    for process in processes:
        for container in _containers(process):
            flows = _outgoing(container)
            for gateway in container:
                if not isinstance(gateway.tag, str) or local(gateway) not in ("exclusiveGateway", "inclusiveGateway"):
                    continue
                leaving = flows.get(gateway.get("id"), [])
                bare = [f for f in leaving if _condition(f) is None and f.get("id") != gateway.get("default")]
                if len(leaving) < 2 or not bare:
                    continue
                for flow in bare:
                    etree.SubElement(flow, f"{{{BPMN_NS}}}conditionExpression").text = "True"
                    warnings.append(f"{describe(flow, capital=True)} leaves {describe(gateway)} without a "
                                    "condition: it is taken as always true, as Camunda 7 does")
                if local(gateway) == "exclusiveGateway":
                    exclusive.append(gateway)
    return warnings, exclusive


def first_true_flow_wins(gateways: list[etree._Element]) -> None:
    """Make an exclusive gateway take its first flow (in file order) whose condition holds, as Camunda 7 does.

    SpiffWorkflow tries the flows in the order they are drawn top to bottom, so each condition is made
    to exclude the ones before it. Call after the conditions are checked, so errors quote them as written.
    """
    for gateway in gateways:
        container = gateway.getparent()
        earlier: list[str] = []
        for flow in _outgoing(container).get(gateway.get("id"), []):
            condition = _condition(flow)
            if condition is None:
                continue
            own = (condition.text or "").strip()
            if earlier:
                condition.text = " and ".join([*(f"not ({c})" for c in earlier), f"({own})"])
            earlier.append(own)


def drop_user_task_data_associations(tree: etree._ElementTree, processes: list[etree._Element]) -> list[str]:
    """Remove a user, manual or calling task's data associations to anything but a data object reference; warn."""
    ids = {e.get("id"): e for e in tree.getroot().iter() if isinstance(e.tag, str) and e.get("id")}
    warnings = []
    for process in processes:
        for association in _bpmn(process, "dataInputAssociation") + _bpmn(process, "dataOutputAssociation"):
            owner = association.getparent()
            if local(owner) not in ACTIVITY_DATA_OWNERS:
                continue
            ref = _association_end(association)
            target = ids.get((ref.text or "").strip()) if ref is not None else None
            if target is not None and local(target) == "dataObjectReference" and target.get("dataObjectRef") in ids:
                continue
            name = (ref.text or "").strip() if ref is not None else "nothing"
            warnings.append(f"{describe(owner, capital=True)} has a data association with {name!r} that is "
                            f"ignored: {ACTIVITY_DATA_OWNERS[local(owner)]} is what it reads and writes")
            owner.remove(association)
            # Its inputs would otherwise be demanded from the process variables when the task starts.
            for io in owner.findall("bpmn:ioSpecification", NS):
                owner.remove(io)
    return warnings


LANGUAGES = {expressions.JUEL: "Camunda 7 (JUEL)", expressions.FEEL: "Camunda 8 (FEEL)"}


# Elements holding an expression, and what an analyst calls them.
TRANSLATED = {"conditionExpression": "condition", "completionCondition": "completion condition",
              "loopCondition": "loop condition", "timeDuration": "timer", "timeDate": "timer", "timeCycle": "timer"}


EXAMPLES = {"timer": "PT1H, or delay for a variable holding such text", "condition": "amount > 1000",
            "completion condition": "approved_count >= 2", "loop condition": "attempts < 3"}


def translate_conditions(processes: list[etree._Element]) -> list[ModelError]:
    """Rewrite JUEL and FEEL conditions and timers as Python in SpiffWorkflow's copy; a problem for the rest."""
    found = []
    for process in processes:
        for tag, what in TRANSLATED.items():
            for element in _bpmn(process, tag):
                lang = expressions.language(element.text or "")
                if lang is None:
                    continue
                # A flow owns its condition; a task its loop's, and an event its timer's.
                owner = element.getparent()
                if tag != "conditionExpression":
                    owner = owner.getparent()
                try:
                    element.text = expressions.translate(element.text)
                except expressions.ExpressionError as exc:
                    found.append(ModelError(
                        f"The {what} {(element.text or '').strip()!r} of {describe(owner)} is a {LANGUAGES[lang]} "
                        f"expression Lanebridge cannot translate: {exc}. Write it in Python over the process "
                        f"variables, e.g. {EXAMPLES[what]}", owner))
    return found


ASSIGNMENTS = ("assignee", "candidateGroups", "candidateUsers")


def untranslatable_assignments(processes: list[etree._Element]) -> list[ModelError]:
    """A problem for each user task assignment written in JUEL or FEEL outside the translated subset."""
    found = []
    for process in processes:
        for task in _bpmn(process, "userTask"):
            for name in ASSIGNMENTS:
                text = task.get(f"{{{CAMUNDA_NS}}}{name}") or ""
                lang = expressions.language(text)
                if lang is None:
                    continue
                try:
                    expressions.translate(text)
                except expressions.ExpressionError as exc:
                    found.append(ModelError(
                        f"The camunda:{name} {text!r} of {describe(task)} is a {LANGUAGES[lang]} expression "
                        f"Lanebridge cannot translate: {exc}. Name the user or group, or read a variable as "
                        "${approver}", task))
    return found

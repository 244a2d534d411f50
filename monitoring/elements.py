"""The elements of a deployed process as the reports name them: id, name and BPMN type, in diagram order."""

from __future__ import annotations

from dataclasses import dataclass

from engine.deploy import parse_xml
from engine.models import ProcessDefinition

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# Flow nodes that are not named *Task, *Event or *Gateway.
OTHER_NODES = {"task", "subProcess", "callActivity", "transaction"}
# Types a stage report shows a column for: the steps people and systems do.
STEP_TYPES = {"userTask", "serviceTask", "sendTask", "receiveTask", "manualTask", "task", "callActivity"}


@dataclass(frozen=True)
class Element:
    """One flow node of the diagram."""

    element_id: str
    name: str
    type: str


_cache: dict[tuple, list[Element]] = {}


def _is_flow_node(tag: str) -> bool:
    return tag in OTHER_NODES or (tag.endswith(("Task", "Event", "Gateway")) and tag != "Task")


def elements_of(definition: ProcessDefinition) -> list[Element]:
    """The flow nodes of the definition's process (and its embedded subprocesses), in file order."""
    key = (definition.pk, definition.content_hash)
    found = _cache.get(key)
    if found is not None:
        return found
    tree = parse_xml(definition.bpmn_xml.encode())
    process = next((p for p in tree.iter(f"{{{BPMN_NS}}}process") if p.get("id") == definition.process_id), None)
    found = []
    if process is not None:
        for node in process.iter(f"{{{BPMN_NS}}}*"):
            tag = node.tag.split("}")[1]
            if node is not process and _is_flow_node(tag) and node.get("id"):
                found.append(Element(node.get("id"), node.get("name") or node.get("id"), tag))
    _cache[key] = found
    return found


def latest_elements(process_id: str) -> list[Element]:
    """The elements of the newest version of a process; [] if none is deployed."""
    definition = ProcessDefinition.objects.filter(process_id=process_id).order_by("-version").first()
    return elements_of(definition) if definition else []


def names(elements: list[Element]) -> dict[str, str]:
    """Element id → name."""
    return {e.element_id: e.name for e in elements}

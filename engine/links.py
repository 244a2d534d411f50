"""Link events: a link throw goes on at the link catch of the same name, in the same process level.

SpiffWorkflow 3.2 parses a link throw as a plain event and never parses the
catch side, so the path silently ends at the throw. A pair of link events is a
sequence flow drawn in two pieces (BPMN 2.0, 10.5.6), so before SpiffWorkflow
parses a file each throw gets the sequence flow to its catch, and both become
plain intermediate events that pass the token on (history still names them).
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SCOPES = ("process", "subProcess", "transaction", "adHocSubProcess")


def _definition(event: etree._Element) -> etree._Element | None:
    return event.find(f"{{{BPMN_NS}}}linkEventDefinition")


def link_name(event: etree._Element) -> str:
    """The name a link event is matched by: its definition's, else the event's own (some tools write only that)."""
    definition = _definition(event)
    name = definition.get("name") if definition is not None else None
    return " ".join((name or event.get("name") or "").split())


def _links(scope: etree._Element, tag: str) -> list[etree._Element]:
    """The link events of kind `tag` drawn directly in `scope` (not in a sub-process inside it)."""
    return [e for e in scope.findall(f"{{{BPMN_NS}}}{tag}") if _definition(e) is not None]


def _scopes(root: etree._Element) -> Iterator[etree._Element]:
    for tag in SCOPES:
        yield from root.iter(f"{{{BPMN_NS}}}{tag}")


def problems(processes: list[etree._Element]) -> Iterator[tuple[str, etree._Element]]:
    """(message, element) for every link event that cannot be followed; empty when all pair up."""
    for process in processes:
        for scope in [process, *(s for s in _scopes(process) if s is not process)]:
            catches: dict[str, list[etree._Element]] = {}
            for catch in _links(scope, "intermediateCatchEvent"):
                catches.setdefault(link_name(catch), []).append(catch)
            for name, found in catches.items():
                if not name:
                    yield "is a link catch event without a name: name it as its link throw event is named", found[0]
                elif len(found) > 1:
                    yield (f"is one of {len(found)} link catch events named {name!r} at this level: a link throw "
                           "could not know where to go on; give each a different name"), found[1]
            for throw in _links(scope, "intermediateThrowEvent"):
                name = link_name(throw)
                if not name:
                    yield ("is a link throw event without a name: name it as the link catch event where the path "
                           "goes on"), throw
                elif name not in catches:
                    here = sorted(n for n in catches if n)
                    known = f"the link catch events here are {', '.join(map(repr, here))}" if here else \
                        "there is no link catch event at this level"
                    yield (f"throws link {name!r}, but no link catch event in the same process or sub-process has "
                           f"that name ({known}): add one, or draw a sequence flow instead"), throw


def join(root: etree._Element) -> None:
    """Replace each link throw → catch pair of the tree by a sequence flow between two plain events."""
    for scope in _scopes(root):
        catches = {link_name(c): c for c in _links(scope, "intermediateCatchEvent")}
        for throw in _links(scope, "intermediateThrowEvent"):
            catch = catches.get(link_name(throw))
            if catch is None:
                continue
            flow = etree.SubElement(scope, f"{{{BPMN_NS}}}sequenceFlow")
            flow.set("id", f"{throw.get('id')}__link")
            flow.set("sourceRef", throw.get("id"))
            flow.set("targetRef", catch.get("id"))
        for event in _links(scope, "intermediateThrowEvent") + _links(scope, "intermediateCatchEvent"):
            if link_name(event) in catches:
                event.remove(_definition(event))

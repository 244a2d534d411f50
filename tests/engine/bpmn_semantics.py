"""Builders for link events, event sub-processes and compensation, written as Camunda Modeler writes them.

They extend tests/engine/bpmn.py: each returns BPMN bytes for one executable
process whose path can be read from the test that runs it.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from tests.engine import bpmn
from tests.engine import bpmn_events as ev


def link_throw(element_id: str, name: str) -> str:
    return (f'    <bpmn:intermediateThrowEvent id="{element_id}" name={quoteattr("to " + name)}>\n'
            f'      <bpmn:linkEventDefinition id="{element_id}_def" name={quoteattr(name)} />\n'
            "    </bpmn:intermediateThrowEvent>\n")


def link_catch(element_id: str, name: str) -> str:
    return (f'    <bpmn:intermediateCatchEvent id="{element_id}" name={quoteattr("from " + name)}>\n'
            f'      <bpmn:linkEventDefinition id="{element_id}_def" name={quoteattr(name)} />\n'
            "    </bpmn:intermediateCatchEvent>\n")


def link_pairs_process(process_id: str = "routed_by_links") -> bytes:
    """start → gateway: big → throw "big", else → throw "small"; a third throw "small" after `recheck`.

    catch "big" → script route='big' → user task `big_review` → end_big;
    catch "small" → script route='small' → user task `small_review` → end_small (or, with recheck, back through it).
    """
    body = (
        bpmn.start_event()
        + bpmn.exclusive_gateway("size", default="to_small")
        + link_throw("go_big", "big") + link_throw("go_small", "small")
        + link_catch("at_big", "big") + link_catch("at_small", "small")
        + bpmn.script_task("mark_big", "route = 'big'") + bpmn.script_task("mark_small", "route = 'small'")
        + bpmn.user_task("big_review") + bpmn.user_task("small_review")
        + bpmn.exclusive_gateway("again", default="done_small")
        + link_throw("go_small_again", "small")
        + bpmn.script_task("count", "rounds = rounds + 1")
        + bpmn.end_event("end_big") + bpmn.end_event("end_small")
        + bpmn.flow("f1", "start", "size")
        + bpmn.flow("to_big", "size", "go_big", "amount > 1000")
        + bpmn.flow("to_small", "size", "go_small")
        + bpmn.flow("f2", "at_big", "mark_big") + bpmn.flow("f3", "mark_big", "big_review")
        + bpmn.flow("f4", "big_review", "end_big")
        + bpmn.flow("f5", "at_small", "mark_small") + bpmn.flow("f6", "mark_small", "count")
        + bpmn.flow("f7", "count", "small_review") + bpmn.flow("f8", "small_review", "again")
        + bpmn.flow("recheck", "again", "go_small_again", "recheck == True")
        + bpmn.flow("done_small", "again", "end_small")
    )
    return bpmn.definitions(process_id, body)


def link_in_subprocess_process(process_id: str = "linked_inside", catch_name: str = "inner") -> bytes:
    """start → sub-process `prepare` [start → script x=1 → throw "inner"; catch `catch_name` → user task `inside`
    → end] → user task `after` → end."""
    body = (
        bpmn.start_event()
        + '    <bpmn:subProcess id="prepare" name="Prepare">\n'
        + bpmn.start_event("sub_start")
        + bpmn.script_task("set_x", "x = 1")
        + link_throw("jump", "inner") + link_catch("land", catch_name)
        + bpmn.user_task("inside") + bpmn.end_event("sub_end")
        + bpmn.flow("s1", "sub_start", "set_x") + bpmn.flow("s2", "set_x", "jump")
        + bpmn.flow("s3", "land", "inside") + bpmn.flow("s4", "inside", "sub_end")
        + "    </bpmn:subProcess>\n"
        + bpmn.user_task("after") + bpmn.end_event()
        + bpmn.flow("f1", "start", "prepare") + bpmn.flow("f2", "prepare", "after") + bpmn.flow("f3", "after", "end")
    )
    return bpmn.definitions(process_id, body)


def link_to_other_level_process(process_id: str = "linked_across") -> bytes:
    """A throw "inner" inside sub-process `prepare` whose only catch "inner" is on the process level."""
    body = (
        bpmn.start_event()
        + '    <bpmn:subProcess id="prepare" name="Prepare">\n'
        + bpmn.start_event("sub_start") + link_throw("jump", "inner")
        + bpmn.flow("s1", "sub_start", "jump")
        + "    </bpmn:subProcess>\n"
        + link_catch("land", "inner") + bpmn.user_task("after") + bpmn.end_event()
        + bpmn.flow("f1", "start", "prepare") + bpmn.flow("f2", "land", "after") + bpmn.flow("f3", "after", "end")
    )
    return bpmn.definitions(process_id, body)


# Event sub-processes.

def event_subprocess(subprocess_id: str, start_id: str, definition: str, interrupting: bool, inner: str = "",
                     ) -> str:
    """An event sub-process: start `start_id` (with `definition`) → `inner` elements in order → end."""
    flag = "true" if interrupting else "false"
    ids = [start_id, *(bpmn.element_id_of(e) for e in ([inner] if inner else [])), f"{subprocess_id}_end"]
    return (
        f'    <bpmn:subProcess id="{subprocess_id}" name={quoteattr(subprocess_id)} triggeredByEvent="true">\n'
        f'      <bpmn:startEvent id="{start_id}" name={quoteattr(start_id)} isInterrupting="{flag}">\n'
        f"        {definition}\n"
        "      </bpmn:startEvent>\n"
        + inner + bpmn.end_event(f"{subprocess_id}_end")
        + "".join(bpmn.flow(f"{subprocess_id}_f{i}", a, b) for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False)))
        + "    </bpmn:subProcess>\n"
    )


MESSAGE = '<bpmn:messageEventDefinition messageRef="Message_cancel" />'
SIGNAL = '<bpmn:signalEventDefinition signalRef="Signal_recall" />'
ERROR = '<bpmn:errorEventDefinition errorRef="Error_stock" />'
DECLARATIONS = (ev.message("Message_cancel", "order cancelled") + ev.signal("Signal_recall", "recall")
                + bpmn.error("Error_stock", "OUT_OF_STOCK"))


def with_event_subprocess(definition: str, interrupting: bool, process_id: str = "ordering") -> bytes:
    """start → script step='open' → user task `review` → end; event sub-process `handler` started by
    `definition`: start `caught` → user task `handle` → end."""
    esp = event_subprocess("handler", "caught", definition, interrupting, inner=bpmn.user_task("handle"))
    return bpmn.chain(process_id, bpmn.script_task("open", "step = 'open'"), bpmn.user_task("review"),
                      extra_body=esp, extra=DECLARATIONS)


def timer_event_subprocess(interrupting: bool, process_id: str = "reminding") -> bytes:
    """Like `with_event_subprocess`, started by a timer PT1H."""
    return with_event_subprocess(ev.timer("timeDuration", "PT1H"), interrupting, process_id)


def error_event_subprocess(process_id: str = "stocking") -> bytes:
    """start → script → gateway: in_stock → user task `ship` → end; else → error end `no_stock` (OUT_OF_STOCK).
    Event sub-process `handler` (error OUT_OF_STOCK): start `caught` → user task `handle` → end."""
    body = (
        bpmn.start_event() + bpmn.script_task("open", "step = 'open'")
        + bpmn.exclusive_gateway("stock", default="to_error") + bpmn.user_task("ship") + bpmn.end_event()
        + '    <bpmn:endEvent id="no_stock">\n      <bpmn:errorEventDefinition errorRef="Error_stock" />\n'
        "    </bpmn:endEvent>\n"
        + bpmn.flow("f1", "start", "open") + bpmn.flow("f2", "open", "stock")
        + bpmn.flow("to_ship", "stock", "ship", "in_stock == True") + bpmn.flow("to_error", "stock", "no_stock")
        + bpmn.flow("f3", "ship", "end")
        + event_subprocess("handler", "caught", ERROR, True, inner=bpmn.user_task("handle"))
    )
    return bpmn.definitions(process_id, body, extra=DECLARATIONS)


def event_subprocess_in_subprocess(process_id: str = "nested_events") -> bytes:
    """start → sub-process `work` [start → user task `inner` → end; event sub-process `handler` (message,
    interrupting): start `caught` → user task `handle` → end] → user task `after` → end."""
    body = (
        bpmn.start_event()
        + '    <bpmn:subProcess id="work" name="Work">\n'
        + bpmn.start_event("sub_start") + bpmn.user_task("inner") + bpmn.end_event("sub_end")
        + bpmn.flow("s1", "sub_start", "inner") + bpmn.flow("s2", "inner", "sub_end")
        + event_subprocess("handler", "caught", MESSAGE, True, inner=bpmn.user_task("handle"))
        + "    </bpmn:subProcess>\n"
        + bpmn.user_task("after") + bpmn.end_event()
        + bpmn.flow("f1", "start", "work") + bpmn.flow("f2", "work", "after") + bpmn.flow("f3", "after", "end")
    )
    return bpmn.definitions(process_id, body, extra=DECLARATIONS)


def failing_call_with_error_event_subprocess(process_id: str = "calling") -> bytes:
    """start → script step='open' → service task `call` (test.reject, code OUT_OF_STOCK) → user task `after` → end;
    event sub-process `handler` (error OUT_OF_STOCK): start `caught` → user task `handle` → end."""
    esp = event_subprocess("handler", "caught", ERROR, True, inner=bpmn.user_task("handle"))
    call = bpmn.service_task("call", "test.reject", {"code": "'OUT_OF_STOCK'", "message": "'none left'"})
    return bpmn.chain(process_id, bpmn.script_task("open", "step = 'open'"), call, bpmn.user_task("after"),
                      extra_body=esp, extra=DECLARATIONS)

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


# Compensation.

def compensation_boundary(boundary_id: str, attached_to: str) -> str:
    """A compensation boundary event on `attached_to` (its handler is joined by `association`)."""
    return (f'    <bpmn:boundaryEvent id="{boundary_id}" attachedToRef="{attached_to}">\n'
            "      <bpmn:compensateEventDefinition />\n"
            "    </bpmn:boundaryEvent>\n")


def association(boundary_id: str, handler: str) -> str:
    """The association from a compensation boundary to its handler (drawn after a level's flows)."""
    return (f'    <bpmn:association id="{boundary_id}_to_{handler}" associationDirection="One" '
            f'sourceRef="{boundary_id}" targetRef="{handler}" />\n')


def handler_script(element_id: str, script: str) -> str:
    return bpmn.script_task(element_id, script).replace(f'id="{element_id}"',
                                                        f'id="{element_id}" isForCompensation="true"', 1)


def handler_user_task(element_id: str) -> str:
    return bpmn.user_task(element_id).replace(f'id="{element_id}"', f'id="{element_id}" isForCompensation="true"', 1)


def compensation_throw(element_id: str, activity_ref: str | None = None, end: bool = False) -> str:
    tag = "endEvent" if end else "intermediateThrowEvent"
    ref = f' activityRef="{activity_ref}"' if activity_ref else ""
    return (f'    <bpmn:{tag} id="{element_id}" name="Undo">\n'
            f'      <bpmn:compensateEventDefinition{ref} />\n'
            f"    </bpmn:{tag}>\n")


BOOKING_HANDLERS = (
    compensation_boundary("hotel_booked", "book_hotel")
    + handler_user_task("cancel_hotel")
    + compensation_boundary("flight_booked", "book_flight")
    + handler_script("cancel_flight", "flight = 'cancelled'\nundone = undone + ['flight']")
)
BOOKING_ASSOCIATIONS = association("hotel_booked", "cancel_hotel") + association("flight_booked", "cancel_flight")


def booking_process(process_id: str = "travel", activity_ref: str | None = None, end: bool = False) -> bytes:
    """start → script book_hotel → gateway: fly → script book_flight, else straight on → user task `confirm`
    → gateway: confirmed → end; else → compensation throw `undo` (of `activity_ref`, or all) → user task
    `after_undo` → end (or `undo` is itself the end event). Handlers: user task `cancel_hotel`, script
    `cancel_flight`."""
    body = (
        bpmn.start_event()
        + bpmn.script_task("book_hotel", "hotel = 'booked'\nundone = []")
        + bpmn.exclusive_gateway("flying", default="no_flight")
        + bpmn.script_task("book_flight", "flight = 'booked'")
        + '    <bpmn:exclusiveGateway id="joined" />\n'
        + bpmn.user_task("confirm")
        + bpmn.exclusive_gateway("confirmed", default="to_undo")
        + compensation_throw("undo", activity_ref, end)
        + BOOKING_HANDLERS
        + bpmn.end_event()
        + bpmn.flow("f1", "start", "book_hotel") + bpmn.flow("f2", "book_hotel", "flying")
        + bpmn.flow("fly", "flying", "book_flight", "fly == True") + bpmn.flow("no_flight", "flying", "joined")
        + bpmn.flow("f3", "book_flight", "joined") + bpmn.flow("f4", "joined", "confirm")
        + bpmn.flow("f5", "confirm", "confirmed")
        + bpmn.flow("ok", "confirmed", "end", "ok == True") + bpmn.flow("to_undo", "confirmed", "undo")
    )
    if not end:
        body += bpmn.user_task("after_undo") + bpmn.end_event("end_undone")
        body += bpmn.flow("f6", "undo", "after_undo") + bpmn.flow("f7", "after_undo", "end_undone")
    return bpmn.definitions(process_id, body + BOOKING_ASSOCIATIONS)


def booking_with_error_handler(process_id: str = "travel_guarded") -> bytes:
    """start → script book_hotel → script book_flight → gateway: ok → end; else → error end (PAYMENT_FAILED).
    Error event sub-process `on_error`: start `failed` → compensation throw `undo` (all) → user task
    `apologise` → end."""
    esp = (
        '    <bpmn:subProcess id="on_error" triggeredByEvent="true">\n'
        '      <bpmn:startEvent id="failed"><bpmn:errorEventDefinition errorRef="Error_pay" /></bpmn:startEvent>\n'
        + compensation_throw("undo") + bpmn.user_task("apologise") + bpmn.end_event("on_error_end")
        + bpmn.flow("e1", "failed", "undo") + bpmn.flow("e2", "undo", "apologise")
        + bpmn.flow("e3", "apologise", "on_error_end")
        + "    </bpmn:subProcess>\n"
    )
    body = (
        bpmn.start_event()
        + bpmn.script_task("book_hotel", "hotel = 'booked'\nundone = []")
        + bpmn.script_task("book_flight", "flight = 'booked'")
        + bpmn.exclusive_gateway("paid", default="to_error") + bpmn.end_event()
        + '    <bpmn:endEvent id="payment_failed"><bpmn:errorEventDefinition errorRef="Error_pay" /></bpmn:endEvent>\n'
        + BOOKING_HANDLERS.replace(handler_user_task("cancel_hotel"),
                                   handler_script("cancel_hotel", "hotel = 'cancelled'\nundone = undone + ['hotel']"))
        + bpmn.flow("f1", "start", "book_hotel") + bpmn.flow("f2", "book_hotel", "book_flight")
        + bpmn.flow("f3", "book_flight", "paid") + bpmn.flow("ok", "paid", "end", "ok == True")
        + bpmn.flow("to_error", "paid", "payment_failed")
        + esp + BOOKING_ASSOCIATIONS
    )
    return bpmn.definitions(process_id, body, extra=bpmn.error("Error_pay", "PAYMENT_FAILED"))


def booking_in_subprocess(process_id: str = "travel_nested") -> bytes:
    """start → sub-process `trip` [start → script book_hotel (handler script cancel_hotel) → end] → user task
    `confirm` → compensation throw `undo` (all) → end."""
    handlers = (compensation_boundary("hotel_booked", "book_hotel")
                + handler_script("cancel_hotel", "hotel = 'cancelled'\nundone = undone + ['hotel']"))
    body = (
        bpmn.start_event()
        + '    <bpmn:subProcess id="trip">\n'
        + bpmn.start_event("trip_start") + bpmn.script_task("book_hotel", "hotel = 'booked'\nundone = []")
        + bpmn.end_event("trip_end") + handlers
        + bpmn.flow("t1", "trip_start", "book_hotel") + bpmn.flow("t2", "book_hotel", "trip_end")
        + association("hotel_booked", "cancel_hotel")
        + "    </bpmn:subProcess>\n"
        + bpmn.user_task("confirm") + compensation_throw("undo") + bpmn.end_event()
        + bpmn.flow("f1", "start", "trip") + bpmn.flow("f2", "trip", "confirm") + bpmn.flow("f3", "confirm", "undo")
        + bpmn.flow("f4", "undo", "end")
    )
    return bpmn.definitions(process_id, body)


def booking_then_long_loop(process_id: str = "travel_looping", rounds: int = 60) -> bytes:
    """start → script book_hotel (handler cancel_hotel) → script prepare → script count n+1 ↺ while n < `rounds`
    → compensation throw `undo` → user task `after_undo` → end."""
    body = (
        bpmn.start_event()
        + bpmn.script_task("book_hotel", "hotel = 'booked'\nundone = []\nn = 0")
        + bpmn.script_task("prepare", "prepared = True")
        + bpmn.script_task("count", "n = n + 1")
        + bpmn.exclusive_gateway("more", default="enough")
        + compensation_throw("undo") + bpmn.user_task("after_undo") + bpmn.end_event()
        + compensation_boundary("hotel_booked", "book_hotel")
        + handler_script("cancel_hotel", "hotel = 'cancelled'\nundone = undone + ['hotel']")
        + bpmn.flow("f1", "start", "book_hotel") + bpmn.flow("f2", "book_hotel", "prepare")
        + bpmn.flow("f2b", "prepare", "count")
        + bpmn.flow("f3", "count", "more") + bpmn.flow("again", "more", "count", f"n < {rounds}")
        + bpmn.flow("enough", "more", "undo") + bpmn.flow("f4", "undo", "after_undo")
        + bpmn.flow("f5", "after_undo", "end")
        + association("hotel_booked", "cancel_hotel")
    )
    return bpmn.definitions(process_id, body)


def trip_with_compensation_event_subprocess(process_id: str = "trip_undone") -> bytes:
    """start → sub-process `trip` [start → script book_hotel → script book_flight → end; each with a script handler;
    compensation event sub-process `undo_trip`: start → script note → compensation throw `undo_all` → end]
    → user task `confirm` → compensation throw `undo` → end."""
    esp = (
        '    <bpmn:subProcess id="undo_trip" triggeredByEvent="true">\n'
        '      <bpmn:startEvent id="trip_compensated"><bpmn:compensateEventDefinition /></bpmn:startEvent>\n'
        + bpmn.script_task("note", "note = 'trip undone'") + compensation_throw("undo_all")
        + bpmn.end_event("undo_trip_end")
        + bpmn.flow("u1", "trip_compensated", "note") + bpmn.flow("u2", "note", "undo_all")
        + bpmn.flow("u3", "undo_all", "undo_trip_end")
        + "    </bpmn:subProcess>\n"
    )
    trip = (
        '    <bpmn:subProcess id="trip">\n'
        + bpmn.start_event("trip_start")
        + bpmn.script_task("book_hotel", "hotel = 'booked'\nundone = []")
        + bpmn.script_task("book_flight", "flight = 'booked'")
        + bpmn.end_event("trip_end")
        + compensation_boundary("hotel_booked", "book_hotel")
        + handler_script("cancel_hotel", "hotel = 'cancelled'\nundone = undone + ['hotel']")
        + compensation_boundary("flight_booked", "book_flight")
        + handler_script("cancel_flight", "flight = 'cancelled'\nundone = undone + ['flight']")
        + bpmn.flow("t1", "trip_start", "book_hotel") + bpmn.flow("t2", "book_hotel", "book_flight")
        + bpmn.flow("t3", "book_flight", "trip_end")
        + esp + BOOKING_ASSOCIATIONS
        + "    </bpmn:subProcess>\n"
    )
    body = (
        bpmn.start_event() + trip + bpmn.user_task("confirm") + compensation_throw("undo") + bpmn.end_event()
        + bpmn.flow("f1", "start", "trip") + bpmn.flow("f2", "trip", "confirm") + bpmn.flow("f3", "confirm", "undo")
        + bpmn.flow("f4", "undo", "end")
    )
    return bpmn.definitions(process_id, body)


def booking_with_process_compensation(process_id: str = "trip_undone_whole", undo_each: bool = True) -> bytes:
    """start → script book_hotel → script book_flight (each with a script handler) → user task `confirm` →
    compensation throw `undo` (all) → user task `after_undo` → end; the process's compensation event sub-process
    `undo_trip`: start → user task `call_customer` → (with `undo_each`) compensation throw `undo_each` → end."""
    undo = compensation_throw("undo_each") if undo_each else ""
    steps = ["trip_compensated", "call_customer", *(["undo_each"] if undo_each else []), "undo_trip_end"]
    esp = (
        '    <bpmn:subProcess id="undo_trip" triggeredByEvent="true">\n'
        '      <bpmn:startEvent id="trip_compensated"><bpmn:compensateEventDefinition /></bpmn:startEvent>\n'
        + bpmn.user_task("call_customer") + undo + bpmn.end_event("undo_trip_end")
        + "".join(bpmn.flow(f"u{i}", a, b) for i, (a, b) in enumerate(zip(steps, steps[1:], strict=False)))
        + "    </bpmn:subProcess>\n"
    )
    body = (
        bpmn.start_event()
        + bpmn.script_task("book_hotel", "hotel = 'booked'\nundone = []")
        + bpmn.script_task("book_flight", "flight = 'booked'")
        + bpmn.user_task("confirm") + compensation_throw("undo") + bpmn.user_task("after_undo") + bpmn.end_event()
        + BOOKING_HANDLERS.replace(handler_user_task("cancel_hotel"),
                                   handler_script("cancel_hotel", "hotel = 'cancelled'\nundone = undone + ['hotel']"))
        + bpmn.flow("f1", "start", "book_hotel") + bpmn.flow("f2", "book_hotel", "book_flight")
        + bpmn.flow("f3", "book_flight", "confirm") + bpmn.flow("f4", "confirm", "undo")
        + bpmn.flow("f5", "undo", "after_undo") + bpmn.flow("f6", "after_undo", "end")
        + esp + BOOKING_ASSOCIATIONS
    )
    return bpmn.definitions(process_id, body)


def call_into_process_with_compensation(process_id: str = "trip_booker") -> bytes:
    """start → call activity `call` of process `trip_booking` → user task `confirm` → compensation throw `undo`
    (all) → user task `after_undo` → end. `trip_booking`: start → script book_hotel → script book_flight (each with
    a script handler) → end; its compensation event sub-process: start → script note → compensation throw → end."""
    handlers = BOOKING_HANDLERS.replace(
        handler_user_task("cancel_hotel"),
        handler_script("cancel_hotel", "hotel = 'cancelled'\nundone = undone + ['hotel']"))
    esp = (
        '    <bpmn:subProcess id="undo_booking" triggeredByEvent="true">\n'
        '      <bpmn:startEvent id="booking_compensated"><bpmn:compensateEventDefinition /></bpmn:startEvent>\n'
        + bpmn.script_task("note", "note = 'booking undone'") + compensation_throw("undo_each")
        + bpmn.end_event("undo_booking_end")
        + bpmn.flow("u1", "booking_compensated", "note") + bpmn.flow("u2", "note", "undo_each")
        + bpmn.flow("u3", "undo_each", "undo_booking_end")
        + "    </bpmn:subProcess>\n"
    )
    called = (
        bpmn.start_event("booking_start")
        + bpmn.script_task("book_hotel", "hotel = 'booked'\nundone = []")
        + bpmn.script_task("book_flight", "flight = 'booked'") + bpmn.end_event("booking_end") + handlers
        + bpmn.flow("b1", "booking_start", "book_hotel") + bpmn.flow("b2", "book_hotel", "book_flight")
        + bpmn.flow("b3", "book_flight", "booking_end") + esp + BOOKING_ASSOCIATIONS
    )
    body = (
        bpmn.start_event() + '    <bpmn:callActivity id="call" name="Book" calledElement="trip_booking" />\n'
        + bpmn.user_task("confirm") + compensation_throw("undo") + bpmn.user_task("after_undo") + bpmn.end_event()
        + bpmn.flow("f1", "start", "call") + bpmn.flow("f2", "call", "confirm") + bpmn.flow("f3", "confirm", "undo")
        + bpmn.flow("f4", "undo", "after_undo") + bpmn.flow("f5", "after_undo", "end")
    )
    return bpmn.definitions(process_id, body).replace(
        b"</bpmn:definitions>",
        f'  <bpmn:process id="trip_booking" isExecutable="true">\n{called}  </bpmn:process>\n'
        "</bpmn:definitions>".encode())

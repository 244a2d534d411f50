"""A compensation throw runs the handlers of the completed activities it compensates, latest first, then goes on."""

from __future__ import annotations

import pytest

from engine.deploy import DeployError, deploy
from engine.messages import Message, send_message
from engine.models import HistoryEvent, HumanTask, ProcessInstance
from engine.runtime import complete_human_task, start_instance
from tests.engine import bpmn
from tests.engine import bpmn_semantics as sem


def open_tasks(instance) -> list[str]:
    return sorted(instance.human_tasks.filter(state=HumanTask.OPEN).values_list("element_id", flat=True))


def task(instance, element_id: str) -> HumanTask:
    return instance.human_tasks.get(state=HumanTask.OPEN, element_id=element_id)


def confirm(instance, user, ok: bool) -> ProcessInstance:
    return complete_human_task(task(instance, "confirm"), user, {"ok": ok})


def test_nothing_is_compensated_on_the_path_without_a_throw(deployed, user):
    deployed(sem.booking_process())
    instance, _ = start_instance("travel", {"fly": True})

    instance = confirm(instance, user, ok=True)

    assert instance.state == ProcessInstance.COMPLETED
    assert (instance.variables["hotel"], instance.variables["flight"], instance.variables["undone"]) == (
        "booked", "booked", [])


def test_a_throw_for_the_whole_process_undoes_each_completed_activity_latest_first(deployed, user):
    deployed(sem.booking_process())
    instance, _ = start_instance("travel", {"fly": True})

    instance = confirm(instance, user, ok=False)

    # The flight, booked last, is cancelled first (a script); then the hotel's handler, a user task, waits.
    assert open_tasks(instance) == ["cancel_hotel"]
    assert instance.variables["flight"] == "cancelled" and instance.variables["undone"] == ["flight"]
    instance = complete_human_task(task(instance, "cancel_hotel"), user, {"hotel": "cancelled"})
    assert open_tasks(instance) == ["after_undo"]
    instance = complete_human_task(task(instance, "after_undo"), user, {})
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.outcome == "end_undone"
    assert (instance.variables["hotel"], instance.variables["flight"]) == ("cancelled", "cancelled")


def test_an_activity_that_did_not_complete_is_not_compensated(deployed, user):
    deployed(sem.booking_process())
    instance, _ = start_instance("travel", {"fly": False})

    instance = confirm(instance, user, ok=False)

    assert open_tasks(instance) == ["cancel_hotel"]
    instance.refresh_from_db()
    assert "flight" not in instance.variables and instance.variables["undone"] == []


def test_a_throw_naming_an_activity_undoes_only_that_one(deployed, user):
    deployed(sem.booking_process(activity_ref="book_flight"))
    instance, _ = start_instance("travel", {"fly": True})

    instance = confirm(instance, user, ok=False)

    assert open_tasks(instance) == ["after_undo"]
    assert instance.variables["undone"] == ["flight"]
    assert instance.variables["hotel"] == "booked"
    assert not instance.human_tasks.filter(element_id="cancel_hotel").exists()


def test_a_compensation_end_event_undoes_and_ends_there(deployed, user):
    deployed(sem.booking_process(end=True))
    instance, _ = start_instance("travel", {"fly": True})

    instance = confirm(instance, user, ok=False)
    instance = complete_human_task(task(instance, "cancel_hotel"), user, {"hotel": "cancelled"})

    assert instance.state == ProcessInstance.COMPLETED
    assert instance.outcome == "Undo"
    assert instance.variables["undone"] == ["flight"] and instance.variables["hotel"] == "cancelled"


def test_a_throw_in_an_error_event_subprocess_undoes_the_process_it_interrupted(deployed, user):
    deployed(sem.booking_with_error_handler())
    instance, _ = start_instance("travel_guarded", {"ok": False})

    assert open_tasks(instance) == ["apologise"]
    instance.refresh_from_db()
    assert instance.variables["undone"] == ["flight", "hotel"]
    assert (instance.variables["hotel"], instance.variables["flight"]) == ("cancelled", "cancelled")
    instance = complete_human_task(task(instance, "apologise"), user, {})
    assert instance.outcome == "on_error_end"


def test_a_completed_sub_process_is_undone_by_undoing_what_completed_in_it(deployed, user):
    deployed(sem.booking_in_subprocess())
    instance, _ = start_instance("travel_nested", {})

    instance = complete_human_task(task(instance, "confirm"), user, {})

    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["hotel"] == "cancelled" and instance.variables["undone"] == ["hotel"]


def test_each_activity_is_compensated_once(deployed, user):
    content = sem.booking_process().replace(
        b'<bpmn:sequenceFlow id="f7" sourceRef="after_undo" targetRef="end_undone" />',
        sem.compensation_throw("undo_again").encode()
        + b'<bpmn:sequenceFlow id="f7" sourceRef="after_undo" targetRef="undo_again" />\n'
        + b'<bpmn:sequenceFlow id="f8" sourceRef="undo_again" targetRef="end_undone" />')
    deployed(content)
    instance, _ = start_instance("travel", {"fly": True})
    instance = confirm(instance, user, ok=False)
    instance = complete_human_task(task(instance, "cancel_hotel"), user, {"hotel": "cancelled"})

    instance = complete_human_task(task(instance, "after_undo"), user, {})

    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["undone"] == ["flight"]
    assert instance.human_tasks.filter(element_id="cancel_hotel").count() == 1


@pytest.mark.parametrize(("content", "element_id", "words"), [
    (bpmn.chain("p", bpmn.user_task("book")).replace(
        b"</bpmn:process>", b'<bpmn:boundaryEvent id="undo_book" attachedToRef="book">'
        b"<bpmn:compensateEventDefinition /></bpmn:boundaryEvent></bpmn:process>"),
     "undo_book", "without a handler"),
    (bpmn.chain("p", bpmn.user_task("book"), extra_body=sem.handler_script("cancel", "x = 1")),
     "cancel", "nothing could ever run it"),
    (bpmn.chain("p", bpmn.user_task("book"), sem.compensation_throw("undo", activity_ref="elsewhere")),
     "undo", "'elsewhere'"),
], ids=["boundary-without-handler", "handler-without-boundary", "unknown-activity"])
def test_compensation_that_cannot_run_is_refused_naming_the_element(db, content, element_id, words):
    with pytest.raises(DeployError) as caught:
        deploy(content, "drawn.bpmn")

    assert caught.value.element_id == element_id
    assert words in caught.value.message
    assert f'id="{element_id}"' in content.decode().splitlines()[caught.value.line - 1]


def test_handlers_appear_in_history_under_their_own_element(deployed, user):
    deployed(sem.booking_process())
    instance, _ = start_instance("travel", {"fly": True})
    instance = confirm(instance, user, ok=False)

    instance = complete_human_task(task(instance, "cancel_hotel"), user, {"hotel": "cancelled"})

    completed = list(instance.history.filter(kind=HistoryEvent.TASK_COMPLETED).values_list("element_id", flat=True))
    assert completed == ["confirm", "cancel_hotel"]


def test_an_activity_is_compensated_after_a_long_loop_trimmed_the_task_tree(deployed, user):
    deployed(sem.booking_then_long_loop(rounds=60))
    instance, _ = start_instance("travel_looping", {})

    assert open_tasks(instance) == ["after_undo"]
    instance.refresh_from_db()
    assert instance.variables["n"] == 60
    assert instance.variables["hotel"] == "cancelled" and instance.variables["undone"] == ["hotel"]


def test_a_sub_process_with_a_compensation_event_subprocess_is_undone_by_running_it(deployed, user):
    deployed(sem.trip_with_compensation_event_subprocess())
    instance, _ = start_instance("trip_undone", {})

    instance = complete_human_task(task(instance, "confirm"), user, {})

    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["note"] == "trip undone"
    assert instance.variables["undone"] == ["flight", "hotel"]
    assert (instance.variables["hotel"], instance.variables["flight"]) == ("cancelled", "cancelled")


def test_an_activity_of_an_ended_non_interrupting_event_subprocess_run_is_still_undone(deployed, user):
    inner = (bpmn.script_task("book_extra", "extra = 'booked'")
             + sem.compensation_boundary("extra_booked", "book_extra")
             + sem.handler_script("cancel_extra", "extra = 'cancelled'\nundone = undone + ['extra']"))
    esp = sem.event_subprocess("extras", "caught", sem.MESSAGE, False, inner=inner).replace(
        "</bpmn:subProcess>", sem.association("extra_booked", "cancel_extra") + "</bpmn:subProcess>")
    deployed(bpmn.chain("travel_extras", bpmn.script_task("open", "undone = []"), bpmn.user_task("confirm"),
                        sem.compensation_throw("undo"), bpmn.user_task("after_undo"),
                        extra_body=esp, extra=sem.DECLARATIONS))
    instance, _ = start_instance("travel_extras", {}, business_key="T-1")
    send_message(Message(name="order cancelled", business_key="T-1"))
    instance.refresh_from_db()
    assert instance.variables["extra"] == "booked"

    instance = complete_human_task(task(instance, "confirm"), user, {})

    assert open_tasks(instance) == ["after_undo"]
    assert (instance.variables["extra"], instance.variables["undone"]) == ("cancelled", ["extra"])


def test_the_process_compensation_event_subprocess_undoes_the_process_with_its_variables(deployed, user):
    deployed(sem.booking_with_process_compensation())
    instance, _ = start_instance("trip_undone_whole", {"traveller": "Ada"})

    instance = complete_human_task(task(instance, "confirm"), user, {"reason": "storm"})

    # It runs instead of the activities' handlers, seeing the process's variables as they are.
    assert open_tasks(instance) == ["call_customer"]
    assert instance.variables == {"traveller": "Ada", "hotel": "booked", "flight": "booked", "undone": [],
                                  "reason": "storm"}
    instance = complete_human_task(task(instance, "call_customer"), user, {"called": True})
    # Its own throw undoes the process's activities, latest first; then the process goes on.
    assert open_tasks(instance) == ["after_undo"]
    assert instance.variables == {"traveller": "Ada", "hotel": "cancelled", "flight": "cancelled",
                                  "undone": ["flight", "hotel"], "reason": "storm", "called": True}
    instance = complete_human_task(task(instance, "after_undo"), user, {})
    assert instance.state == ProcessInstance.COMPLETED
    completed = list(instance.history.filter(kind=HistoryEvent.TASK_COMPLETED).values_list("element_id", flat=True))
    assert completed == ["confirm", "call_customer", "after_undo"]


def test_the_process_compensation_event_subprocess_replaces_the_handlers_of_its_activities(deployed, user):
    deployed(sem.booking_with_process_compensation(undo_each=False))
    instance, _ = start_instance("trip_undone_whole", {})
    instance = complete_human_task(task(instance, "confirm"), user, {})

    instance = complete_human_task(task(instance, "call_customer"), user, {"called": True})

    assert open_tasks(instance) == ["after_undo"]
    assert (instance.variables["hotel"], instance.variables["flight"]) == ("booked", "booked")
    assert instance.variables["undone"] == [] and instance.variables["called"] is True


def test_a_caller_compensating_a_call_runs_the_called_process_compensation_event_subprocess(db, user):
    deploy(sem.call_into_process_with_compensation(), "calls.bpmn")
    instance, _ = start_instance("trip_booker", {})
    assert (instance.variables["hotel"], instance.variables["flight"]) == ("booked", "booked")

    instance = complete_human_task(task(instance, "confirm"), user, {})

    assert open_tasks(instance) == ["after_undo"]
    assert instance.variables["note"] == "booking undone"
    assert instance.variables["undone"] == ["flight", "hotel"]
    assert (instance.variables["hotel"], instance.variables["flight"]) == ("cancelled", "cancelled")


def booking_rooms(loop: str, handler: str) -> bytes:
    """start → script `open` → user task `book` with `loop` → user task `confirm` → compensation throw → user task
    `after_undo` → end; `handler` undoes `book`."""
    book = bpmn.user_task("book").replace("</bpmn:userTask>", f"{loop}</bpmn:userTask>")
    return bpmn.chain("rooms", bpmn.script_task("open", "cancelled = []"), book, bpmn.user_task("confirm"),
                      sem.compensation_throw("undo"), bpmn.user_task("after_undo"),
                      extra_body=sem.compensation_boundary("room_booked", "book") + handler
                      + sem.association("room_booked", "cancel_room"))


def test_each_instance_of_a_multi_instance_activity_is_undone_by_its_own_handler_run_with_its_item(deployed, user):
    deployed(booking_rooms('<bpmn:multiInstanceLoopCharacteristics camunda:collection="${rooms}" '
                           'camunda:elementVariable="room" />', sem.handler_user_task("cancel_room")))
    instance, _ = start_instance("rooms", {"rooms": ["101", "102", "103"]})
    for book in instance.human_tasks.filter(element_id="book").order_by("pk"):
        instance = complete_human_task(book, user, {"price": 80})

    instance = complete_human_task(task(instance, "confirm"), user, {})

    # One handler run per booked room, the room booked last first, each seeing its own room.
    seen = []
    while open_tasks(instance) == ["cancel_room"]:
        cancel = task(instance, "cancel_room")
        seen.append(cancel.data["room"])
        instance = complete_human_task(cancel, user, {"cancelled": [*cancel.data["cancelled"], cancel.data["room"]]})
    assert seen == ["103", "102", "101"]
    assert open_tasks(instance) == ["after_undo"]
    assert instance.variables["cancelled"] == ["103", "102", "101"]
    assert "room" not in instance.variables
    completed = list(instance.history.filter(kind=HistoryEvent.TASK_COMPLETED).values_list("element_id", flat=True))
    assert completed == ["book", "book", "book", "confirm", "cancel_room", "cancel_room", "cancel_room"]


def test_each_run_of_a_looped_activity_is_undone(deployed, user):
    deployed(booking_rooms('<bpmn:standardLoopCharacteristics loopMaximum="2" />',
                           sem.handler_script("cancel_room", "cancelled = cancelled + ['room']")))
    instance, _ = start_instance("rooms", {})
    for _ in range(2):
        instance = complete_human_task(task(instance, "book"), user, {})

    instance = complete_human_task(task(instance, "confirm"), user, {})

    assert open_tasks(instance) == ["after_undo"]
    assert instance.variables["cancelled"] == ["room", "room"]

"""The ERP/CRM event watcher against the real Tryton ERP: changes become messages, once, to the right instance."""

from __future__ import annotations

import json
import uuid

import pytest

from engine.connectors import Call
from engine.deploy import deploy
from engine.models import BufferedMessage, HistoryEvent, HumanTask, MessageReceipt, ProcessInstance
from engine.runtime import start_instance
from integrations import ledger, watcher
from integrations.erp_tryton import operations as erp_operations
from integrations.models import ErpChange, PollCursor
from tests.engine import bpmn_events

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER = {"code": "C-000124", "name": "Globex Corporation", "street": "221B Baker Street", "city": "London",
            "zip": "NW1 6XE", "country": "GB"}


def call(operation, data: dict) -> dict:
    """Run an ERP operation as a service task would, with a fresh key."""
    return operation(Call(operation.__name__, data, f"test-{uuid.uuid4().hex}", 0))


def order_with_production() -> dict:
    """A confirmed sale with its production order, waiting, in the real ERP: their ids and numbers."""
    customer = call(erp_operations.ensure_customer, {"customer": CUSTOMER})
    sale = call(erp_operations.create_sales_order, {
        "customer_id": customer["customer_id"], "lines": [{"product": "WIDGET", "quantity": 1, "unit_price": "1200"}],
        "reference": f"Q-{uuid.uuid4().hex[:8]}"})
    call(erp_operations.confirm_sales_order, {"sale_id": sale["sale_id"]})
    production = call(erp_operations.create_production, {"sale_id": sale["sale_id"]})
    return {**sale, **production}


@pytest.fixture
def waiting_process(db):
    """start → receive task waiting for "production_done" → user task "after" → end."""
    deploy(bpmn_events.waits_for_message("made_to_order", "production_done", receive=True), "made_to_order.bpmn")
    return "made_to_order"


def instance_for(order: dict, business_key: str = "") -> ProcessInstance:
    """An instance waiting for its production, with the ERP numbers in its ledger as the service calls leave them."""
    instance, _ = start_instance("made_to_order", {"production_number": order["production_number"],
                                                   "sale_number": order["sale_number"]},
                                 business_key=business_key or order["sale_number"])
    ledger.record(instance.pk, [("erp.production", str(order["production_id"])),
                                ("erp.production", order["production_number"]),
                                ("erp.sale", str(order["sale_id"])), ("erp.sale", order["sale_number"])])
    return instance


def productions_watch() -> watcher.Watch:
    return watcher.watch_named("erp.production_done")


def received(instance) -> list[HistoryEvent]:
    return list(instance.history.filter(kind=HistoryEvent.MESSAGE))


def moved_on(instance) -> bool:
    return HumanTask.objects.filter(instance=instance, element_id="after", state=HumanTask.OPEN).exists()


def test_a_production_done_in_the_erp_reaches_its_instance_once_across_two_passes(tryton_server, waiting_process):
    order = order_with_production()
    instance = instance_for(order)
    watcher.run_watch(productions_watch())
    assert not moved_on(instance)

    call(erp_operations.complete_production, {"production_id": order["production_id"]})
    watcher.run_watch(productions_watch())
    watcher.run_watch(productions_watch())

    assert moved_on(instance)
    (event,) = received(instance)
    assert event.element_id == "wait"
    assert event.data["message"] == "production_done"
    assert event.data["correlation"] == {"production_number": order["production_number"]}
    change = ErpChange.objects.get(watch="erp.production_done", record_id=order["production_id"])
    assert change.outcome == ErpChange.DELIVERED and change.instances == [instance.pk]
    assert change.number == order["production_number"]
    assert PollCursor.objects.get(name="erp.production_done").position >= order["production_id"]


def test_a_crash_between_the_delivery_and_the_cursor_move_delivers_once(tryton_server, waiting_process,
                                                                         monkeypatch):
    order = order_with_production()
    instance = instance_for(order)
    call(erp_operations.complete_production, {"production_id": order["production_id"]})

    real_advance = watcher.advance_cursor

    def killed(cursor, position, changed_at=""):
        if position == order["production_id"]:
            raise SystemExit("watcher killed after the delivery, before its cursor moved")
        real_advance(cursor, position, changed_at)  # other tests' productions, earlier in the ERP

    with monkeypatch.context() as patched:
        patched.setattr(watcher, "advance_cursor", killed)
        with pytest.raises(SystemExit):
            watcher.run_watch(productions_watch())
    assert moved_on(instance)
    cursor = PollCursor.objects.get(name="erp.production_done")
    assert cursor.position is None or cursor.position < order["production_id"]

    # The restarted watcher reads the same change again; its key gives back the first answer.
    watcher.run_watch(productions_watch())
    watcher.run_watch(productions_watch())

    assert len(received(instance)) == 1
    assert MessageReceipt.objects.filter(sender="watcher:erp.production_done",
                                         idempotency_key=f"production:{order['production_id']}").count() == 1
    assert ErpChange.objects.filter(watch="erp.production_done", record_id=order["production_id"]).count() == 1
    assert PollCursor.objects.get(name="erp.production_done").position == order["production_id"]


def test_two_instances_waiting_for_production_each_receive_only_their_own(tryton_server, waiting_process):
    first_order, second_order = order_with_production(), order_with_production()
    # Even a business key they share does not let one instance take the other's production.
    first = instance_for(first_order, business_key="SHARED-KEY")
    second = instance_for(second_order, business_key="SHARED-KEY")

    call(erp_operations.complete_production, {"production_id": second_order["production_id"]})
    watcher.run_watch(productions_watch())
    assert moved_on(second) and not moved_on(first)
    assert received(first) == []

    call(erp_operations.complete_production, {"production_id": first_order["production_id"]})
    watcher.run_watch(productions_watch())
    assert moved_on(first)
    assert [e.data["correlation"] for e in received(first)] == [
        {"production_number": first_order["production_number"]}]
    assert len(received(second)) == 1


def test_a_production_done_before_its_instance_waits_is_buffered_then_delivered(tryton_server, waiting_process):
    order = order_with_production()
    call(erp_operations.complete_production, {"production_id": order["production_id"]})

    watcher.run_watch(productions_watch())

    change = ErpChange.objects.get(watch="erp.production_done", record_id=order["production_id"])
    assert change.outcome == ErpChange.BUFFERED
    buffered = BufferedMessage.objects.get(pk=change.detail["buffered"])
    assert buffered.correlation == {"production_number": order["production_number"]}
    instance = instance_for(order)
    assert moved_on(instance)
    assert received(instance)[0].data["buffered"] == buffered.pk


def test_which_erp_changes_become_which_messages_is_configuration(tryton_server, tmp_path, settings):
    # A watch written for this test only: a sale confirmed in the ERP tells the instance that placed it.
    path = tmp_path / "confirmations.json"
    path.write_text(json.dumps({"watches": [{
        "name": "erp.sale_confirmed", "system": "erp", "model": "sale.sale",
        "domain": [["state", "in", ["confirmed", "processing"]]], "number": "number",
        "message": {"name": "order_confirmed", "ledger": "erp.sale", "correlate_on": "sale_number",
                    "variables": {"erp_state": "state"}}}]}))
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "WATCHERS": [str(path)]}
    deploy(bpmn_events.waits_for_message("confirm_then_act", "order_confirmed"), "confirm_then_act.bpmn")
    customer = call(erp_operations.ensure_customer, {"customer": CUSTOMER})
    sale = call(erp_operations.create_sales_order, {
        "customer_id": customer["customer_id"], "lines": [{"product": "GADGET", "quantity": 2, "unit_price": "350"}],
        "reference": "config-test"})
    instance, _ = start_instance("confirm_then_act", {"sale_number": sale["sale_number"]}, business_key="CFG-1")
    ledger.record(instance.pk, [("erp.sale", sale["sale_number"])])

    assert [w.name for w in watcher.load_watches()] == ["erp.sale_confirmed"]
    call(erp_operations.confirm_sales_order, {"sale_id": sale["sale_id"]})
    watcher.run_watchers()

    (event,) = received(instance)
    assert event.data["message"] == "order_confirmed"
    instance.refresh_from_db()
    assert instance.variables["erp_state"] == "processing"
    assert HumanTask.objects.filter(instance=instance, element_id="after", state=HumanTask.OPEN).exists()


def test_a_change_without_a_number_to_correlate_on_is_listed_as_unmatched(tryton_server, tmp_path, settings):
    path = tmp_path / "nameless.json"
    path.write_text(json.dumps({"watches": [{
        "name": "erp.drafts", "system": "erp", "model": "sale.sale", "domain": [["state", "!=", "cancelled"]],
        "number": "description", "limit": 5,
        "message": {"name": "sale_changed", "ledger": "erp.sale"}}]}))
    (watch,) = watcher.load_watches([path])
    order_with_production()

    outcomes = watcher.run_watch(watch)

    assert outcomes and all(o.outcome == ErpChange.UNMATCHED for o in outcomes)
    assert ErpChange.objects.filter(watch="erp.drafts", outcome=ErpChange.UNMATCHED).count() == len(outcomes)
    assert not BufferedMessage.objects.exists()


def test_the_embedded_scheduler_and_celery_beat_both_run_the_watcher(tryton_server, waiting_process, settings):
    from django.core.management import call_command

    from integrations import tasks

    assert settings.CELERY_BEAT_SCHEDULE["watch-erp"]["task"] == "integrations.tasks.watch_erp"
    first, second = order_with_production(), order_with_production()
    by_scheduler, by_beat = instance_for(first), instance_for(second)
    # The ERP's watches only: the CRM's would start instances for other tests' won opportunities.
    erp_file = tryton_server.home / "erp-only.json"
    erp_file.write_text(json.dumps({"watches": [
        w for w in json.loads((watcher.WATCHERS_DIR / "tryton.json").read_text())["watches"]
        if w["system"] == "erp"]}))
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "WATCHERS": [str(erp_file)], "WATCH_SECONDS": 5}

    call(erp_operations.complete_production, {"production_id": first["production_id"]})
    call_command("run_scheduler", "--once")
    assert moved_on(by_scheduler) and not moved_on(by_beat)

    call(erp_operations.complete_production, {"production_id": second["production_id"]})
    tasks.watch_erp.delay()  # Celery runs it in-process here: no broker in the embedded setup
    assert moved_on(by_beat)


def test_a_watch_from_now_leaves_what_the_erp_already_had_and_delivers_what_changes_after(tryton_server,
                                                                                          waiting_process):
    from dataclasses import replace

    watch = replace(productions_watch(), name="erp.production_done_from_now", begin="now")
    before, after = order_with_production(), order_with_production()
    old, new = instance_for(before), instance_for(after)
    call(erp_operations.complete_production, {"production_id": before["production_id"]})

    # The first pass only finds where the ERP stands: the production done before the watch began is history.
    assert watcher.run_watch(watch) == []
    cursor = PollCursor.objects.get(name=watch.name)
    assert cursor.position >= before["production_id"] and cursor.began_at
    call(erp_operations.complete_production, {"production_id": after["production_id"]})
    watcher.run_watch(watch)
    watcher.run_watch(watch)  # reads back over the lookback window: still nothing from before

    assert moved_on(new) and len(received(new)) == 1
    assert not moved_on(old) and received(old) == []
    assert not ErpChange.objects.filter(watch=watch.name, record_id=before["production_id"]).exists()

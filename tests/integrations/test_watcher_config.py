"""The event watcher's configuration: the shipped watches load, and a watch that cannot run is refused by name."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from integrations import watcher

GOOD = {"name": "erp.paid", "system": "erp", "model": "account.invoice", "domain": [["state", "=", "paid"]],
        "message": {"name": "invoice_paid", "ledger": "erp.sale", "correlate_on": "sale_number"}}


def write(tmp_path, *watches) -> str:
    path = tmp_path / "watches.json"
    path.write_text(json.dumps({"watches": list(watches)}))
    return path


def test_the_shipped_watches_cover_production_shipment_invoice_and_opportunities():
    watches = {w.name: w for w in watcher.load_watches()}
    assert sorted(watches) == ["crm.lost_opportunities", "crm.won_opportunities", "erp.invoice_paid",
                               "erp.production_done", "erp.shipment_delivered"]
    assert watches["erp.production_done"].message.name == "production_done"
    assert watches["erp.shipment_delivered"].number == {"model": "sale.sale", "where": "shipments", "field": "number"}
    assert watches["crm.won_opportunities"].start.process == "quote_to_cash"
    assert watches["crm.won_opportunities"].cursor == "id"
    # The fields the message variables read are fetched with the record.
    assert "effective_date" in watches["erp.shipment_delivered"].fields


@pytest.mark.parametrize(("change", "expected"), [
    ({"system": "sap"}, "'system' must be one of erp, crm"),
    ({"cursor": "create_date"}, "'cursor' must be 'id' or 'write_date'"),
    ({"start": {"process": "x"}}, "give exactly one of 'message' or 'start'"),
    ({"message": {"name": "invoice_paid"}}, "message: 'ledger' is required"),
    ({"message": {**GOOD["message"], "ttl": "soon"}}, "message: 'ttl'"),
    ({"message": {**GOOD["message"], "colour": "red"}}, "unknown field 'colour'"),
    ({"number": {"model": "sale.sale"}}, "'number.where' is required"),
    ({"domain": "state = paid"}, "'domain' must be a list"),
    ({"model": ""}, "'model' is required"),
])
def test_a_watch_that_cannot_run_is_refused_naming_the_file_the_watch_and_the_field(tmp_path, change, expected):
    path = write(tmp_path, {**GOOD, **change})
    with pytest.raises(watcher.WatchError) as refused:
        watcher.load_watches([path])
    assert "watches.json watches[0] (erp.paid)" in str(refused.value)
    assert expected in str(refused.value)


def test_two_watches_with_one_name_are_refused(tmp_path):
    with pytest.raises(watcher.WatchError, match="two watches are named 'erp.paid'"):
        watcher.load_watches([write(tmp_path, GOOD, GOOD)])


def test_the_command_names_a_broken_watch_file(tmp_path, settings):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "WATCHERS": [str(write(tmp_path, {**GOOD, "system": "sap"}))]}
    with pytest.raises(CommandError, match="watches.json"):
        call_command("watch_erp", "--once")


def test_the_command_refuses_an_unknown_watch_listing_the_known_ones(db):
    with pytest.raises(CommandError, match="no watch named 'erp.nothing'; configured: crm.won_opportunities"):
        call_command("watch_erp", "--once", "--watch", "erp.nothing")


def test_a_system_that_is_down_stops_its_watches_and_keeps_their_cursors(db, settings, unused_port, capsys):
    settings.ERP_URL = settings.CRM_URL = f"http://127.0.0.1:{unused_port}"
    from integrations.tryton.rpc import reset_clients

    reset_clients()
    try:
        call_command("watch_erp", "--once")
    finally:
        reset_clients()
    assert "0 change(s) handled by 5 watch(es)" in capsys.readouterr().out
    from integrations.models import PollCursor

    assert not PollCursor.objects.exclude(position=None).exists()


def test_a_watch_begins_from_start_unless_it_says_from_now_and_anything_else_is_refused(tmp_path):
    base = {"name": "erp.x", "system": "erp", "model": "production", "message": {"name": "x", "ledger": "erp.p"}}

    assert watcher.parse_watch(base, "w.json").begin == "start"
    assert watcher.parse_watch({**base, "from": "now"}, "w.json").begin == "now"
    with pytest.raises(watcher.WatchError, match=r"w.json \(erp.x\): 'from' must be 'start'"):
        watcher.parse_watch({**base, "from": "yesterday"}, "w.json")

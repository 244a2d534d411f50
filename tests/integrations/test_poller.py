"""The CRM poller (the watcher's won-opportunities watch) starts one instance per won opportunity, once."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from engine import connectors
from engine.deploy import deploy
from engine.models import ProcessInstance
from integrations import poller, watcher
from integrations.models import ExternalId, PollCursor
from tests.engine import bpmn


class FakeCrm:
    """The two CRM operations the poller reads, over a dict of opportunities."""

    def __init__(self):
        self.won: dict[int, dict] = {}
        self.listed_since: list[int | None] = []

    def win(self, opportunity_id: int, customer_code: str = "C-1") -> None:
        self.won[opportunity_id] = {
            "opportunity_id": opportunity_id, "number": f"OPP{opportunity_id:04d}", "state": "won",
            "customer": {"code": customer_code, "name": "Ada"}, "amount": "30.00",
            "lines": [{"product": "P-1", "quantity": 3, "unit_price": "10.00"}],
        }

    def list_won(self, call: connectors.Call) -> dict:
        # The watch asks for won opportunities by id, past its cursor.
        assert call.input["model"] == "sale.opportunity" and call.input["domain"] == [["state", "=", "won"]]
        since = call.input["after_id"]
        self.listed_since.append(since)
        return {"changes": [{"id": i, "ledger_number": self.won[i]["number"]} for i in sorted(self.won)
                            if since is None or i > since]}

    def read(self, call: connectors.Call) -> dict:
        return self.won[call.input["opportunity_id"]]


@pytest.fixture
def crm():
    """Fake CRM operations registered for one test; the real ones are put back afterwards."""
    fake = FakeCrm()
    names = {poller.LIST_OPERATION: fake.list_won, poller.READ_OPERATION: fake.read}
    saved = {name: connectors._operations.get(name) for name in names}
    for name, func in names.items():
        connectors.register(name, func)
    yield fake
    for name, previous in saved.items():
        connectors.unregister(name)
        if previous is not None:
            connectors._operations[name] = previous


@pytest.fixture
def process(db):
    """A minimal deployed process (start → user task → end) for the poller to start."""
    deploy(bpmn.user_task_process("won_deal"), "won_deal.bpmn")
    return "won_deal"


def test_polling_twice_starts_one_instance_per_won_opportunity(crm, process):
    crm.win(1)
    crm.win(2)

    first = poller.poll_won_opportunities(process)
    second = poller.poll_won_opportunities(process)

    assert sorted(i.business_key for i in first) == ["OPP-1", "OPP-2"]
    assert second == []
    assert ProcessInstance.objects.count() == 2


def test_an_instance_starts_with_the_opportunity_as_its_variables(crm, process):
    crm.win(7, customer_code="C-77")

    [instance] = poller.poll_won_opportunities(process)

    instance.refresh_from_db()
    assert instance.business_key == "OPP-7"
    assert instance.started_by.username == "crm-poller"
    assert instance.variables["opportunity_id"] == 7
    assert instance.variables["customer"]["code"] == "C-77"
    assert instance.variables["lines"] == [{"product": "P-1", "quantity": 3, "unit_price": "10.00"}]
    assert set(ExternalId.objects.filter(instance=instance).values_list("kind", "value")) == {
        ("business_key", "OPP-7"), ("crm.opportunity", "7"), ("crm.opportunity", "OPP0007")}


def test_a_crash_before_the_cursor_moved_does_not_start_a_second_instance(crm, process, monkeypatch):
    crm.win(1)

    def crash(cursor, position, changed_at=""):
        raise RuntimeError("killed after the start, before the cursor moved")

    with monkeypatch.context() as patched:
        patched.setattr(watcher, "advance_cursor", crash)
        with pytest.raises(RuntimeError):
            poller.poll_won_opportunities(process)
    assert PollCursor.objects.get(name=poller.CURSOR_NAME).position is None

    assert poller.poll_won_opportunities(process) == []
    assert ProcessInstance.objects.filter(business_key="OPP-1").count() == 1
    assert PollCursor.objects.get(name=poller.CURSOR_NAME).position == 1


def test_the_cursor_advances_so_the_next_poll_asks_only_for_newer_opportunities(crm, process):
    crm.win(3)
    poller.poll_won_opportunities(process)
    crm.win(5)

    [instance] = poller.poll_won_opportunities(process)

    assert instance.business_key == "OPP-5"
    assert crm.listed_since == [None, 3]
    assert PollCursor.objects.get(name=poller.CURSOR_NAME).position == 5


def test_the_cursor_never_moves_backwards(db):
    cursor = PollCursor.objects.create(name=poller.CURSOR_NAME, position=9)

    watcher.advance_cursor(cursor, 4)

    assert PollCursor.objects.get(pk=cursor.pk).position == 9


def test_the_poll_crm_command_polls_once(crm, process, capsys):
    crm.win(1)

    call_command("poll_crm", "--process", process, "--once")

    assert "1 instance(s) started" in capsys.readouterr().out
    assert ProcessInstance.objects.filter(business_key="OPP-1").exists()

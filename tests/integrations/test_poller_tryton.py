"""The CRM poller against the real Tryton CRM: won opportunities start one instance each."""

import pytest
from django.conf import settings

from engine.deploy import deploy
from engine.models import ProcessInstance
from integrations.crm_tryton import operations as crm_operations  # noqa: F401 (registers them)
from integrations.poller import poll_won_opportunities
from tests.integrations.test_quote_to_cash_e2e import new_opportunity

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quote_to_cash(roles):
    path = settings.BASE_DIR / "processes" / "bpmn" / "quote_to_cash.bpmn"
    deploy(path.read_bytes(), path.name)


def test_an_opportunity_won_in_the_crm_starts_one_instance_with_its_customer_and_lines(tryton_server, crm,
                                                                                        quote_to_cash):
    from engine.connectors import Call, get_operation

    opportunity_id = new_opportunity(crm)
    get_operation("crm.mark_won").func(Call("crm.mark_won", {"opportunity_id": opportunity_id}, "won-it", 0))

    started = poll_won_opportunities("quote_to_cash")
    again = poll_won_opportunities("quote_to_cash")

    mine = [i for i in started if i.variables.get("opportunity_id") == opportunity_id]
    assert len(mine) == 1 and again == []
    instance = ProcessInstance.objects.get(business_key=f"OPP-{opportunity_id}")
    assert instance.variables["customer"]["code"] == "C-000125"
    assert instance.variables["lines"][0]["product"] == "WIDGET"


def test_an_opportunity_an_instance_already_handles_does_not_start_another(tryton_server, crm, quote_to_cash):
    from engine.connectors import Call, get_operation
    from engine.runtime import start_instance

    opportunity_id = new_opportunity(crm)
    start_instance("quote_to_cash", {"customer": {"code": "C-000125"}, "lines": [], "opportunity_id": opportunity_id},
                   business_key="from-the-web")
    get_operation("crm.mark_won").func(Call("crm.mark_won", {"opportunity_id": opportunity_id}, "won-by-us", 0))

    poll_won_opportunities("quote_to_cash")

    assert not ProcessInstance.objects.filter(business_key=f"OPP-{opportunity_id}").exists()

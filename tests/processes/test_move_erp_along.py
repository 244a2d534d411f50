"""The instance page's "Move the ERP along" buttons: operators only, demo/local ERP only, and never a 500.

Doing the step in the real ERP, and the watcher carrying it into the instance, is proven end to end in
tests/integrations/test_quote_to_cash_e2e.py.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from engine.deploy import deploy
from engine.runtime import start_instance
from integrations import ledger
from tests.engine import bpmn_events as ev


@pytest.fixture
def waiting(db):
    deploy(ev.waits_for_message("made_to_order", "production_done", receive=True), "made_to_order.bpmn")
    instance, _ = start_instance("made_to_order", {"production_number": "MO-9"}, business_key="SO-9")
    return instance


@pytest.fixture
def demo(settings):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "ERP_ADVANCE": True}


def test_an_operator_sees_the_buttons_the_instance_has_erp_records_for(client, make_user, waiting, demo):
    client.force_login(make_user("operator", "Operator"))
    assert "Move the ERP along" not in client.get(f"/processes/instances/{waiting.pk}/").content.decode()

    ledger.record(waiting.pk, [("erp.production", "12"), ("erp.production", "MO-9")])
    html = client.get(f"/processes/instances/{waiting.pk}/").content.decode()

    assert "Move the ERP along" in html
    assert 'value="production"' in html and 'value="shipment"' not in html


def test_the_buttons_are_in_chinese_for_a_chinese_operator(client, make_user, waiting, demo):
    ledger.record(waiting.pk, [("erp.sale", "3"), ("erp.production", "12")])
    client.force_login(make_user("operator", "Operator"))
    with translation.override("zh-hans"):
        html = client.get(f"/processes/instances/{waiting.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "推进 ERP" in html and "完成生产" in html and "发运货物" in html and "支付发票" in html


def test_without_the_demo_setting_there_is_no_button_and_the_step_is_a_404(client, make_user, waiting, settings):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "ERP_ADVANCE": False}
    ledger.record(waiting.pk, [("erp.production", "12")])
    client.force_login(make_user("operator", "Operator"))
    assert "Move the ERP along" not in client.get(f"/processes/instances/{waiting.pk}/").content.decode()
    assert client.post(f"/processes/instances/{waiting.pk}/erp/", {"step": "production"}).status_code == 404


def test_someone_who_may_not_operate_instances_gets_403(client, make_user, waiting, demo):
    ledger.record(waiting.pk, [("erp.production", "12")])
    client.force_login(make_user("seller", "Sales"))
    assert client.post(f"/processes/instances/{waiting.pk}/erp/", {"step": "production"}).status_code == 403


@pytest.mark.parametrize(("step", "says"), [
    ("production", "has no ERP record for this step yet (erp.production)"),
    ("teleport", "Unknown step teleport"),
])
def test_a_step_that_cannot_be_done_is_said_on_the_page(client, make_user, waiting, demo, step, says):
    client.force_login(make_user("operator", "Operator"))
    answer = client.post(f"/processes/instances/{waiting.pk}/erp/", {"step": step}, follow=True)
    assert answer.status_code == 200
    assert says in answer.content.decode()

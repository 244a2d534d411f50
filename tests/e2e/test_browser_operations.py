"""In the browser: an operator skips, cancels and retries many incidents at once, and moves a token on the diagram."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from engine import connectors
from engine.models import HistoryEvent, HumanTask, Incident, ProcessInstance
from tests.e2e.test_browser_diagram import log_in, wait_for_shape, waiting_approval  # noqa: F401 - a fixture
from tests.engine import bpmn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def three_incidents(transactional_db, roles, settings):
    """Three orders whose ERP posting failed, and an operator."""
    from engine.deploy import _spec_cache, deploy
    from engine.jobs import run_due_work
    from engine.runtime import start_instance

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _spec_cache.clear()
    operator = User.objects.create_user("operator", "operator@example.com", "demo")
    operator.groups.add(Group.objects.get(name="Operator"))

    def post(call):
        raise connectors.RetryableError("ERP unreachable")

    connectors.register("test.erp_post", post, ledger={"number": "erp.sale"})
    deploy(bpmn.service_process("test.erp_post", retries=1, result_variable="posting"), "servicing.bpmn")
    made = []
    for n in range(3):
        instance, _ = start_instance("servicing", {}, business_key=f"ORDER-{n}")
        run_due_work(now=timezone.now())
        made.append(Incident.objects.get(instance=instance))
    yield made
    connectors.unregister("test.erp_post")
    _spec_cache.clear()


def shows(browser, *texts: str) -> None:
    """Wait until the page that answered the form shows every one of `texts`."""
    # The old page's <main> goes stale while the answer loads: look again rather than fail.
    WebDriverWait(browser, 15, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: all(t in b.find_element(By.TAG_NAME, "main").text for t in texts))


def tick(browser, incident: Incident) -> None:
    browser.find_element(By.CSS_SELECTOR, f'input[name="ids"][value="{incident.pk}"]').click()


def test_an_operator_skips_cancels_and_retries_incidents_in_batches(browser, live_server, three_incidents,
                                                                     screenshot):
    first, second, third = three_incidents
    log_in(browser, live_server, "operator")
    browser.get(f"{live_server.url}/processes/incidents/")
    browser.find_element(By.CSS_SELECTOR, 'select[name="process"] option[value="servicing"]').click()
    browser.find_element(By.CSS_SELECTOR, 'select[name="element"] option[value="call"]').click()
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "fieldset.skip-output code")))
    assert browser.find_element(By.CSS_SELECTOR, "fieldset.skip-output code").text == "posting"
    assert browser.find_element(By.NAME, "name_0").get_attribute("value") == "number"

    tick(browser, first)
    tick(browser, second)
    browser.find_element(By.NAME, "value_0").send_keys("SO-BY-HAND")
    browser.find_element(By.NAME, "reason").send_keys("Posted in the ERP by hand")
    screenshot("incidents-batch-skip-form")
    browser.find_element(By.CSS_SELECTOR, 'button[name="action"][value="skip"]').click()
    shows(browser, f"Incident {first.pk}: step skipped; the instance goes on.",
          f"Incident {second.pk}: step skipped; the instance goes on.")
    screenshot("incidents-batch-skipped")
    for incident in (first, second):
        assert ProcessInstance.objects.get(pk=incident.instance_id).variables["posting"] == {"number": "SO-BY-HAND"}

    tick(browser, third)
    browser.find_element(By.CSS_SELECTOR, 'button[name="action"][value="retry"]').click()
    shows(browser, f"Incident {third.pk}: the call failed again: ERP unreachable")
    assert Incident.objects.get(pk=third.pk).state == Incident.OPEN
    screenshot("incidents-batch-retry-failed")

    tick(browser, third)
    browser.find_element(By.NAME, "reason").send_keys("Order withdrawn")
    browser.find_element(By.CSS_SELECTOR, 'button[name="action"][value="cancel"]').click()
    shows(browser, f"Incident {third.pk}: instance cancelled; the incident is closed.")
    assert ProcessInstance.objects.get(pk=third.instance_id).state == ProcessInstance.CANCELLED


def test_an_operator_moves_a_token_by_picking_source_and_target_on_the_diagram(browser, live_server,
                                                                               waiting_approval, screenshot):  # noqa: F811
    instance = waiting_approval.instance
    log_in(browser, live_server, "operator")
    browser.get(f"{live_server.url}/processes/instances/{instance.pk}/")
    browser.find_element(By.CSS_SELECTOR, "#move-token summary").click()

    wait_for_shape(browser, "Task_ApproveQuote", "lb-current").click()
    browser.find_element(By.CSS_SELECTOR, "#move-token .pick-target").click()
    wait_for_shape(browser, "Task_FollowUp").click()
    wait_for_shape(browser, "Task_FollowUp", "lb-move-to")
    wait_for_shape(browser, "Task_ApproveQuote", "lb-move-from")
    assert browser.find_element(By.CSS_SELECTOR, 'input[name="cancel"][value="Task_ApproveQuote"]').is_selected()
    assert browser.find_element(By.NAME, "start_before").get_attribute("value") == "Task_FollowUp"
    browser.find_element(By.ID, "move-reason").send_keys("Approved by phone")
    screenshot("move-token-picked-on-diagram")
    browser.find_element(By.CSS_SELECTOR, "#move-token button[type=submit]").click()

    shows(browser, "Token moved")
    assert list(HumanTask.objects.filter(instance=instance, state=HumanTask.OPEN).values_list(
        "element_id", flat=True)) == ["Task_FollowUp"]
    assert instance.history.get(kind=HistoryEvent.TOKENS_MOVED).data["reason"] == "Approved by phone"
    screenshot("move-token-done")

"""A manager approves a large quote in the browser; sales cannot see it, then gets the follow-up."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from engine import runtime
from engine.models import HumanTask
from tests.approvals.conftest import BPMN, LARGE_LINES
from tests.e2e.test_browser_diagram import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def quote_task(transactional_db, roles, settings):
    """Demo users and a large quote waiting for the Manager's approval."""
    from engine.deploy import _spec_cache, deploy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _spec_cache.clear()
    for name, group in [("sales", "Sales"), ("manager", "Manager")]:
        user = User.objects.create_user(name, f"{name}@example.com", "demo")
        user.groups.add(Group.objects.get(name=group))
    deploy((BPMN / "quote_approval.bpmn").read_bytes(), "quote_approval.bpmn")
    instance, _ = runtime.start_instance(
        "quote_approval", {"customer": "Globex Corp", "lines": LARGE_LINES}, business_key="Q-7001",
        user=User.objects.get(username="sales"))
    yield instance.human_tasks.get(state=HumanTask.OPEN)
    _spec_cache.clear()


def wait_for_text(browser, text: str, timeout: float = 10):
    WebDriverWait(browser, timeout).until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), text))


def log_out(browser) -> None:
    browser.find_element(By.XPATH, "//form[contains(@action, '/accounts/logout/')]//button").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.NAME, "username")))


def test_manager_approves_and_sales_follows_up(browser, live_server, quote_task, screenshot):
    # Sales (who started the quote) does not see the approval, and its URL is a 403 without its data.
    log_in(browser, live_server, "sales")
    assert "Approve quote" not in browser.page_source
    browser.get(f"{live_server.url}/tasks/{quote_task.pk}/")
    wait_for_text(browser, "Not allowed")
    assert "Globex" not in browser.page_source and "13500" not in browser.page_source
    screenshot("00-sales-forbidden")
    log_out(browser)

    # The manager sees the large quote in the role's queue and opens it.
    log_in(browser, live_server, "manager")
    wait_for_text(browser, "Approve quote")
    screenshot("01-manager-inbox")
    browser.find_element(By.LINK_TEXT, "Approve quote").click()
    # The inbox row names the customer too, so wait for the task page itself.
    total = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "total")))
    assert "Globex Corp" in browser.page_source
    assert total.text == "13500"
    screenshot("02-manager-task")

    # Submitting without a decision keeps the comment and shows the error on the field.
    browser.find_element(By.NAME, "comment").send_keys("Margin is fine, approved.")
    browser.find_element(By.CSS_SELECTOR, "#task-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".has-error .errorlist")))
    assert browser.find_element(By.NAME, "comment").get_attribute("value") == "Margin is fine, approved."

    Select(browser.find_element(By.NAME, "decision")).select_by_value("approve")
    browser.find_element(By.CSS_SELECTOR, "#task-form button[type=submit]").click()
    wait_for_text(browser, "is done")
    screenshot("03-manager-approved")
    quote_task.refresh_from_db()
    assert quote_task.state == HumanTask.COMPLETED
    assert quote_task.submitted_data == {"decision": "approve", "comment": "Margin is fine, approved."}
    log_out(browser)

    # Sales now has the follow-up, and the approval is still closed to them.
    log_in(browser, live_server, "sales")
    wait_for_text(browser, "Follow up with customer")
    screenshot("05-sales-follow-up")

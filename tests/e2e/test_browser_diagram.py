"""An operator sees where an instance waits, drawn in its BPMN diagram by bpmn-js."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from engine import runtime
from engine.models import HumanTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_BPMN = Path(__file__).resolve().parents[2] / "processes" / "bpmn" / "quote_to_cash.bpmn"
CUSTOMER = {"code": "C-000123", "name": "Acme Tools Ltd", "phone": "+44 20 7946 0958", "street": "1 Dock Road",
            "city": "London", "zip": "E16 1AA", "country": "GB"}
LARGE_LINES = [{"product": "WIDGET-XL", "quantity": 30, "unit_price": "450.00"}]


@pytest.fixture
def waiting_approval(transactional_db, roles, settings):
    """The demo quote-to-cash process (it has a diagram layout), waiting at the manager's approval."""
    from engine.deploy import _spec_cache, deploy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _spec_cache.clear()
    operator = User.objects.create_user("operator", "operator@example.com", "demo")
    operator.groups.add(Group.objects.get(name="Operator"))
    deploy(DEMO_BPMN.read_bytes(), DEMO_BPMN.name)
    instance, _ = runtime.start_instance("quote_to_cash", {"customer": CUSTOMER, "lines": LARGE_LINES},
                                         business_key="Q-8001")
    yield instance.human_tasks.get(state=HumanTask.OPEN)
    _spec_cache.clear()


def log_in(browser, live_server, username: str) -> None:
    browser.get(live_server.url + "/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys("demo")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    # The login page has a header too: wait until the browser has left it.
    WebDriverWait(browser, 10).until(lambda b: "/accounts/login/" not in b.current_url)
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, "header nav")))


def wait_for_shape(browser, element_id: str, css_class: str = ""):
    """The drawn shape of a BPMN element (with the marker class, if given), once bpmn-js has drawn it."""
    selector = f'#diagram svg .djs-element[data-element-id="{element_id}"]' + (f".{css_class}" if css_class else "")
    return WebDriverWait(browser, 15).until(EC.presence_of_element_located((By.CSS_SELECTOR, selector)))


def test_the_instance_diagram_marks_the_waiting_task(browser, live_server, waiting_approval, screenshot):
    log_in(browser, live_server, "operator")
    browser.get(f"{live_server.url}/processes/instances/{waiting_approval.instance_id}/")
    shape = wait_for_shape(browser, waiting_approval.element_id, "lb-current")
    assert "lb-current" in shape.get_attribute("class").split()
    assert browser.find_element(By.ID, "diagram").is_displayed()
    # The tables are still there under the drawing.
    assert waiting_approval.name in browser.find_element(By.TAG_NAME, "main").text
    browser.execute_script("document.getElementById('diagram').scrollIntoView()")
    screenshot("10-instance-diagram")

    # Through an hx-boost link (no full page load), the definition page draws its diagram too, unmarked.
    definition_url = f"/processes/definitions/{waiting_approval.instance.definition_id}/"
    browser.execute_script("window.sameDocument = true")
    browser.find_element(By.CSS_SELECTOR, f'main a[href="{definition_url}"]').click()
    WebDriverWait(browser, 10).until(EC.staleness_of(shape))  # htmx swapped the instance page out
    assert browser.execute_script("return window.sameDocument === true"), "expected an htmx swap, not a page load"
    shape = wait_for_shape(browser, waiting_approval.element_id)
    assert "lb-current" not in shape.get_attribute("class").split()
    browser.execute_script("document.getElementById('diagram').scrollIntoView()")
    screenshot("11-definition-diagram")

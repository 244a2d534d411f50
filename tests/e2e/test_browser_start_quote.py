"""A sales user fills the demo's quote form in the browser: a CRM customer, ERP products, a line removed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from engine.models import ProcessInstance
from tests.approvals.conftest import own_tryton  # noqa: F401 - a real ERP and CRM of this module's own
from tests.e2e.conftest import switch_language, whole_page_screenshot
from tests.e2e.test_browser_diagram import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("own_tryton")]

DEMO_BPMN = Path(__file__).resolve().parents[2] / "processes" / "bpmn" / "quote_to_cash.bpmn"


@pytest.fixture
def sales(transactional_db, roles, settings):
    """The demo process and a sales user who may start it."""
    from approvals.forms import _start_fields_cache
    from engine.deploy import _spec_cache, deploy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _spec_cache.clear()
    _start_fields_cache.clear()
    user = User.objects.create_user("sam", "sam@example.com", "demo")
    user.groups.add(Group.objects.get(name="Sales"))
    deploy(DEMO_BPMN.read_bytes(), DEMO_BPMN.name)
    yield user
    _spec_cache.clear()
    _start_fields_cache.clear()


def options_loaded(select) -> bool:
    return len(select.find_elements(By.TAG_NAME, "option")) > 1


def fill_line(row, product: str, quantity: str, price: str) -> None:
    Select(row.find_element(By.CSS_SELECTOR, ".line-product")).select_by_value(product)
    row.find_element(By.CSS_SELECTOR, ".line-quantity").send_keys(quantity)
    row.find_element(By.CSS_SELECTOR, ".line-price").send_keys(price)


@pytest.mark.parametrize("width, language", [(1280, "en"), (390, "en"), (1280, "zh-hans"), (390, "zh-hans")])
def test_sales_fills_the_quote_form_removes_a_line_and_lands_on_the_order(browser, live_server, sales, width, language):
    browser.set_window_size(width, 900)
    log_in(browser, live_server, "sam")
    if language != "en":
        switch_language(browser, language)
    browser.get(f"{live_server.url}/start/quote_to_cash/")

    # The customer comes from the CRM, the products from the ERP, through the page's JSON endpoint.
    customer = browser.find_element(By.NAME, "customer")
    WebDriverWait(browser, 15).until(lambda b: options_loaded(customer))
    Select(customer).select_by_value("C-000124")
    first = browser.find_element(By.CSS_SELECTOR, "tr.line")
    WebDriverWait(browser, 15).until(lambda b: options_loaded(first.find_element(By.CSS_SELECTOR, ".line-product")))
    fill_line(first, "WIDGET", "10", "1200")
    browser.find_element(By.CSS_SELECTOR, ".add-line").click()
    second = browser.find_elements(By.CSS_SELECTOR, "tr.line")[1]
    WebDriverWait(browser, 15).until(lambda b: options_loaded(second.find_element(By.CSS_SELECTOR, ".line-product")))
    fill_line(second, "GADGET", "3", "350")
    browser.find_element(By.NAME, "business_key").send_keys(f"Q-WEB-{width}-{language}")
    assert browser.find_element(By.CSS_SELECTOR, ".lines-total").text == "13050.00"
    # Nothing scrolls sideways on a phone.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    whole_page_screenshot(browser, f"lanes-start-form-{width}-{language}")

    # Remove the first line: the second becomes line 0 and the total follows.
    first.find_element(By.CSS_SELECTOR, ".remove-line").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.line")
    assert len(rows) == 1
    assert rows[0].find_element(By.CSS_SELECTOR, ".line-product").get_attribute("name") == "lines-0-product"
    assert browser.find_element(By.CSS_SELECTOR, ".lines-total").text == "1050.00"
    browser.find_element(By.CSS_SELECTOR, "#start-form button[type=submit]").click()

    WebDriverWait(browser, 30).until(lambda b: "/orders/" in b.current_url and b.find_elements(By.ID, "order-state"))
    instance = ProcessInstance.objects.get(business_key=f"Q-WEB-{width}-{language}")
    assert browser.current_url == f"{live_server.url}/orders/{instance.pk}/"
    assert instance.variables["customer"]["name"] == "Globex Corporation"
    assert instance.variables["lines"] == [{"product": "GADGET", "quantity": 3, "unit_price": "350"}]
    said = browser.find_element(By.CSS_SELECTOR, ".messages li").text
    # A small quote goes straight to the ERP; the page says how far it got, whatever that was.
    assert str(instance.pk) in said
    assert ("Started" if language == "en" else "已启动") in said
    assert "Globex Corporation" in browser.find_element(By.ID, "quote").text
    WebDriverWait(browser, 15).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#diagram svg .djs-element"))
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    whole_page_screenshot(browser, f"lanes-order-{width}-{language}")


@pytest.mark.parametrize("width, language", [(1280, "en"), (390, "zh-hans")])
def test_the_initiator_finds_the_rejection_in_the_inbox_and_opens_the_order(browser, live_server, sales, width,
                                                                             language):
    from approvals.models import UserPreference
    from engine import runtime
    from tests.e2e.test_browser_diagram import CUSTOMER, LARGE_LINES

    manager = User.objects.create_user("mia", "mia@example.com", "demo")
    manager.groups.add(Group.objects.get(name="Manager"))
    UserPreference.objects.create(user=sales, language=language)
    instance, _ = runtime.start_instance("quote_to_cash", {"customer": CUSTOMER, "lines": LARGE_LINES},
                                         business_key="Q-LOST", user=sales)
    runtime.complete_human_task(instance.human_tasks.get(state="open"), manager,
                                {"decision": "reject", "comment": "Margin too thin"})

    browser.set_window_size(width, 900)
    log_in(browser, live_server, "sam")
    notice = browser.find_element(By.CSS_SELECTOR, "#notices li.rejected")
    assert "Q-LOST" in notice.text and "Margin too thin" in notice.text
    assert ("Quote rejected" if language == "en" else "被拒绝") in notice.text
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    whole_page_screenshot(browser, f"lanes-inbox-notice-{width}-{language}")
    notice.find_element(By.TAG_NAME, "a").click()
    WebDriverWait(browser, 15).until(lambda b: b.current_url == f"{live_server.url}/orders/{instance.pk}/")
    WebDriverWait(browser, 15).until(lambda b: b.find_elements(By.ID, "order-outcome"))
    assert browser.find_element(By.ID, "order-outcome").text == "Quote rejected"

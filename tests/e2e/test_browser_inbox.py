"""The inbox in Chromium: cards on a 390 px phone, a table sorted by amount on a 1280 px screen, en and zh-Hans."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from engine import runtime
from tests.e2e.conftest import switch_language, whole_page_screenshot
from tests.e2e.test_browser_diagram import CUSTOMER, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_BPMN = Path(__file__).resolve().parents[2] / "processes" / "bpmn" / "quote_to_cash.bpmn"
# Customer name → quantity of 450.00 widgets: totals 13 500, 45 000 and 22 500, each above the approval threshold.
ORDERS = {"Acme Tools Ltd": 30, "Globex 环球贸易": 100, "Umbrella Corp": 50}


@pytest.fixture
def three_approvals(transactional_db, roles, settings):
    """Three demo quotes of different customers and totals waiting for the manager's approval."""
    from engine.deploy import _spec_cache, deploy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _spec_cache.clear()
    manager = User.objects.create_user("boss", "boss@example.com", "demo")
    manager.groups.add(Group.objects.get(name="Manager"))
    deploy(DEMO_BPMN.read_bytes(), DEMO_BPMN.name)
    for n, (name, quantity) in enumerate(ORDERS.items()):
        lines = [{"product": "WIDGET-XL", "quantity": quantity, "unit_price": "450.00"}]
        runtime.start_instance("quote_to_cash", {"customer": {**CUSTOMER, "name": name}, "lines": lines},
                               business_key=f"Q-50{n}")
    yield
    _spec_cache.clear()


def log_in_as(browser, live_server, username: str, width: int, language: str) -> None:
    browser.set_window_size(width, 900)
    log_in(browser, live_server, username)
    if language != "en":
        switch_language(browser, language)


def open_inbox(browser, live_server, width: int, language: str) -> None:
    log_in_as(browser, live_server, "boss", width, language)
    browser.get(f"{live_server.url}/?tab=queue")
    WebDriverWait(browser, 10).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#tasks tr[data-task]")) == 3)


def customers(browser) -> list[str]:
    return [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#tasks tr[data-task] td.customer")]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_on_a_phone_the_inbox_is_a_list_of_cards(browser, live_server, three_approvals, language):
    open_inbox(browser, live_server, 390, language)
    width = browser.execute_script("return document.documentElement.clientWidth")

    assert not browser.find_element(By.CSS_SELECTOR, "#tasks thead").is_displayed()
    cards = browser.find_elements(By.CSS_SELECTOR, "#tasks tr[data-task]")
    for card in cards:
        assert card.value_of_css_property("display") == "block"
        # Each card spans the screen, less the page's margins, and nothing pokes out sideways.
        assert width * 0.8 < card.size["width"] <= width
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    # Cards stack: each starts below the one before.
    tops = [card.location["y"] for card in cards]
    assert tops == sorted(tops) and len(set(tops)) == 3
    # Every value says what it is: the cell's label is drawn before it.
    amount = cards[0].find_element(By.CSS_SELECTOR, "td.amount")
    label = browser.execute_script("return getComputedStyle(arguments[0], '::before').content", amount)
    assert label.strip('"') == ("Amount" if language == "en" else "金额")
    whole_page_screenshot(browser, f"inbox-390-{language}")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_on_a_wide_screen_the_inbox_is_a_table_sorted_by_amount(browser, live_server, three_approvals, language):
    open_inbox(browser, live_server, 1280, language)
    assert browser.find_element(By.CSS_SELECTOR, "#tasks thead").is_displayed()

    Select(browser.find_element(By.ID, "sort")).select_by_value("amount")
    browser.find_element(By.CSS_SELECTOR, "form.toolbar button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "sort=amount" in b.current_url)
    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: customers(b) == ["Globex 环球贸易", "Umbrella Corp", "Acme Tools Ltd"])

    amounts = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#tasks tr[data-task] td.amount")]
    # Grouped as the language writes numbers: Chinese formats put no separator in.
    expected = ["45,000.00", "22,500.00", "13,500.00"]
    assert amounts == (expected if language == "en" else [a.replace(",", "") for a in expected])
    assert browser.find_element(By.CSS_SELECTOR, "#tasks tr[data-task]").value_of_css_property("display") == "table-row"
    whole_page_screenshot(browser, f"inbox-1280-{language}")


@pytest.mark.parametrize("width, language", [(1280, "en"), (390, "zh-hans")])
def test_a_manager_going_away_names_a_deputy_who_then_sees_the_managers_task(
        browser, live_server, three_approvals, width, language):
    from django.utils import timezone

    from approvals import services
    from engine.models import HumanTask

    deputy = User.objects.create_user("deputy", "deputy@example.com", "demo")
    deputy.groups.add(Group.objects.get(name="Manager"))
    User.objects.create_user("fin", "fin@example.com", "demo").groups.add(Group.objects.get(name="Finance"))
    boss = User.objects.get(username="boss")
    services.claim_task(HumanTask.objects.get(instance__business_key="Q-501"), boss)

    log_in_as(browser, live_server, "boss", width, language)
    browser.get(f"{live_server.url}/accounts/away/")
    first, last = timezone.localdate(), timezone.localdate() + timezone.timedelta(days=7)
    for name, day in (("starts_on", first), ("ends_on", last)):
        field = browser.find_element(By.NAME, name)
        assert field.get_attribute("type") == "date"  # the browser's own date picker
        browser.execute_script("arguments[0].value = arguments[1]", field, day.isoformat())
    picker = Select(browser.find_element(By.NAME, "substitute"))
    # Only a colleague from the manager's lane; not finance.
    assert [option.text for option in picker.options][1:] == ["deputy"]
    picker.select_by_visible_text("deputy")
    browser.find_element(By.CSS_SELECTOR, "#away-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#absences tr[data-absence]"))
    table = browser.find_element(By.ID, "absences")
    assert table.location["x"] + table.size["width"] <= browser.execute_script(
        "return document.documentElement.clientWidth")
    whole_page_screenshot(browser, f"away-{width}-{language}")

    browser.delete_all_cookies()
    log_in_as(browser, live_server, "deputy", width, language)
    browser.get(f"{live_server.url}/?tab=standin")
    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: customers(b) == ["Globex 环球贸易"])
    assert browser.find_element(By.CSS_SELECTOR, "#tasks td.on-behalf-of").text == "boss"
    whole_page_screenshot(browser, f"standing-in-{width}-{language}")

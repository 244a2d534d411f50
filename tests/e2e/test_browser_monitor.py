"""The monitor draws its charts with ECharts and the process monitor its heat overlay with bpmn-js."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from engine import runtime
from tests.e2e.conftest import switch_language
from tests.e2e.test_browser_diagram import CUSTOMER, LARGE_LINES, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_BPMN = Path(__file__).resolve().parents[2] / "processes" / "bpmn" / "quote_to_cash.bpmn"


@pytest.fixture
def three_waiting(transactional_db, roles, settings):
    """Three demo quotes waiting at the manager's approval, and a manager who watches the monitor."""
    from engine.deploy import _spec_cache, deploy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _spec_cache.clear()
    manager = User.objects.create_user("boss", "boss@example.com", "demo")
    manager.groups.add(Group.objects.get(name="Manager"))
    deploy(DEMO_BPMN.read_bytes(), DEMO_BPMN.name)
    for n in range(3):
        runtime.start_instance("quote_to_cash", {"customer": CUSTOMER, "lines": LARGE_LINES}, business_key=f"Q-90{n}")
    yield
    _spec_cache.clear()


def chart_total(browser, element_id: str) -> int:
    """The sum of every series' data in the ECharts chart drawn in the element (0 if none is drawn)."""
    return browser.execute_script("""
        const chart = window.echarts && echarts.getInstanceByDom(arguments[0]);
        if (!chart) return 0;
        return chart.getOption().series.flatMap(s => s.data).reduce((a, b) => a + (Number(b) || 0), 0);
    """, browser.find_element(By.ID, element_id) if element_id.startswith("chart") else
        browser.find_element(By.CSS_SELECTOR, element_id))


@pytest.mark.parametrize("width, language", [(1280, "en"), (390, "zh-hans")])
def test_the_monitor_draws_non_empty_charts(browser, live_server, three_waiting, screenshot, width, language):
    browser.set_window_size(width, 900)
    log_in(browser, live_server, "boss")
    if language != "en":
        switch_language(browser, language)
    browser.get(f"{live_server.url}/monitor/")
    WebDriverWait(browser, 15).until(
        lambda b: b.find_element(By.ID, "monitor").get_attribute("data-drawn") == "true")

    assert chart_total(browser, "chart-throughput") == 3  # three started today, none completed
    assert chart_total(browser, '.funnel[data-process="quote_to_cash"]') == 3  # all three wait at approval
    assert browser.find_element(By.CSS_SELECTOR, "#chart-throughput canvas").size["width"] > 100
    running = browser.find_element(By.CSS_SELECTOR, '[data-tile="running"]').text
    assert running == "3"
    # Nothing scrolls sideways on a phone.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    screenshot(f"30-monitor-{width}-{language}")


def test_the_process_monitor_puts_badges_on_the_diagram_and_opens_the_waiting_instances(
        browser, live_server, three_waiting, screenshot):
    log_in(browser, live_server, "boss")
    browser.get(f"{live_server.url}/processes/quote_to_cash/monitor/")
    WebDriverWait(browser, 15).until(
        lambda b: b.find_element(By.ID, "heatmap").get_attribute("data-drawn") == "true")

    badge = browser.find_element(By.CSS_SELECTOR, "#heatmap .diagram-canvas .heat-badge .waiting")
    assert badge.text == "3"
    assert browser.find_element(By.ID, "heatmap").get_attribute("data-badges") == "1"
    screenshot("31-process-monitor")

    browser.find_element(By.CSS_SELECTOR,
                         '#heatmap .djs-element[data-element-id="Task_ApproveQuote"]').click()
    WebDriverWait(browser, 10).until(EC.url_contains("element=Task_ApproveQuote"))
    # Read once the list has loaded; the monitor page's <main> may still be the one found.
    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: b.find_element(By.TAG_NAME, "main").text.count("Q-90") == 3)
    screenshot("32-instances-waiting-at-approval")

"""Under the Content-Security-Policy, every kind of page still works and the browser refuses nothing on it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from engine import runtime
from engine.models import HumanTask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_BPMN = Path(__file__).resolve().parents[2] / "processes" / "bpmn" / "quote_to_cash.bpmn"
CUSTOMER = {"code": "C-000123", "name": "Acme Tools Ltd", "phone": "+44 20 7946 0958", "street": "1 Dock Road",
            "city": "London", "zip": "E16 1AA", "country": "GB"}
# Injected by the browser itself before any page script, so the policy cannot block it.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile
                            + ":" + e.lineNumber);
});
"""


@pytest.fixture
def waiting_approval(transactional_db, roles, settings):
    """The demo process waiting at the manager's approval, and an admin who may see and do everything."""
    from engine.deploy import _spec_cache, deploy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _spec_cache.clear()
    admin = User.objects.create_user("admin", "admin@example.com", "demo", is_staff=True, is_superuser=True)
    admin.groups.add(*Group.objects.filter(name__in=["Operator", "Analyst", "Manager"]))
    deploy(DEMO_BPMN.read_bytes(), DEMO_BPMN.name)
    instance, _ = runtime.start_instance("quote_to_cash", {"customer": CUSTOMER, "lines": [
        {"product": "WIDGET-XL", "quantity": 30, "unit_price": "450.00"}]}, business_key="Q-8101")
    yield instance.human_tasks.get(state=HumanTask.OPEN)
    _spec_cache.clear()


def visit(browser, url: str, ready: str) -> list[str]:
    """Open `url`, wait for the CSS selector `ready`, and return the policy violations the page caused."""
    browser.get(url)
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, ready)))
    return browser.execute_script("return window.cspViolations || ['the recorder did not run'];")


def test_pages_load_their_scripts_and_styles_without_any_violation(browser, live_server, waiting_approval,
                                                                   screenshot):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    base = live_server.url
    assert visit(browser, f"{base}/accounts/login/", "form button.primary") == []
    # The stylesheet applies: the login card is narrowed by base.css, not by an inline style.
    assert browser.find_element(By.CSS_SELECTOR, ".card.narrow").size["width"] < 600
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys("demo")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit].primary").click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "tasks")))
    assert browser.execute_script("return window.cspViolations;") == []
    assert browser.execute_script("return typeof window.htmx;") == "object"

    # htmx boosts the link to the task page: the swap itself must not need inline code.
    browser.find_element(By.LINK_TEXT, waiting_approval.name).click()
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "task-form")))
    assert browser.execute_script("return window.cspViolations;") == []

    instance = f"{base}/processes/instances/{waiting_approval.instance_id}/"
    pages = {
        instance: f'#diagram svg .djs-element[data-element-id="{waiting_approval.element_id}"].lb-current',
        f"{base}/api/docs/": ".swagger-ui .info .title",
        f"{base}/api/v1/instances/": ".response-info",
        f"{base}/processes/instances/": ".instances table",
        f"{base}/monitor/": "#chart-throughput canvas",
        f"{base}/processes/quote_to_cash/monitor/": "#heatmap svg .djs-element",
        f"{base}/reports/": ".card.scrolls",
        f"{base}/accounts/tokens/": "main h1",
        f"{base}/admin/": "#content-main",
        f"{base}/admin/auth/user/{User.objects.get(username='admin').pk}/change/": "#user_form",
    }
    for url, ready in pages.items():
        assert visit(browser, url, ready) == [], url

    # ECharts writes its tooltips as HTML: hovering a chart must not need inline styles either.
    visit(browser, f"{base}/monitor/", "#chart-throughput canvas")
    chart = browser.find_element(By.ID, "chart-throughput")
    for x in range(-200, 201, 25):
        ActionChains(browser).move_to_element_with_offset(chart, x, 0).perform()
    screenshot("csp-monitor")
    assert browser.execute_script("return window.cspViolations;") == []
    screenshot("csp-admin")

    # The policy is in force and the recorder sees it: an injected inline style is refused.
    browser.execute_script("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>');")
    WebDriverWait(browser, 5).until(lambda b: b.execute_script("return window.cspViolations.length;") == 1)
    assert browser.execute_script("return window.cspViolations;")[0].startswith("style-src-attr blocked inline")
    visit(browser, f"{base}/api/docs/", ".swagger-ui .opblock")
    screenshot("csp-swagger")

"""A sales user fills a task's form in the browser: a dropdown, a customer from a list, a line added, the total."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from engine import connectors, runtime
from engine.models import HumanTask, ProcessInstance
from tests.approvals.conftest import BPMN
from tests.approvals.test_task_form_fields import CUSTOMERS, PRODUCTS
from tests.e2e.conftest import switch_language, whole_page_screenshot
from tests.e2e.test_browser_diagram import log_in
from tests.e2e.test_browser_start_quote import fill_line, options_loaded

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def review(transactional_db, roles, settings):
    """An order waiting at "Review order" for the Sales lane, its one line filled in already."""
    from engine.deploy import _spec_cache, deploy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    connectors.register("test.list_customers", lambda call: {"options": CUSTOMERS}, read_only=True)
    connectors.register("test.list_products", lambda call: {"options": PRODUCTS}, read_only=True)
    _spec_cache.clear()
    user = User.objects.create_user("sam", "sam@example.com", "demo")
    user.groups.add(Group.objects.get(name="Sales"))
    deploy((BPMN / "order_review_form.bpmn").read_bytes(), "order_review_form.bpmn")
    instance, _ = runtime.start_instance(
        "order_review_form", {"lines": [{"product": "WIDGET", "quantity": 2, "unit_price": "12.50"}]},
        business_key="O-WEB", user=user)
    yield instance.human_tasks.get(state=HumanTask.OPEN)
    _spec_cache.clear()
    connectors.unregister("test.list_customers")
    connectors.unregister("test.list_products")


@pytest.mark.parametrize("width, language", [(1280, "en"), (390, "en"), (1280, "zh-hans"), (390, "zh-hans")])
def test_sales_picks_from_the_dropdown_adds_a_line_and_completes_the_task(browser, live_server, review, width,
                                                                         language):
    browser.set_window_size(width, 900)
    log_in(browser, live_server, "sam")
    if language != "en":
        switch_language(browser, language)
    browser.get(f"{live_server.url}/tasks/{review.pk}/")

    # The elements of the task page itself, once its script has loaded the lists.
    customer = WebDriverWait(browser, 15).until(lambda b: b.find_element(By.CSS_SELECTOR, "#task-form [name=customer]"))
    WebDriverWait(browser, 15).until(lambda b: options_loaded(customer))
    delivery = Select(browser.find_element(By.CSS_SELECTOR, "#task-form select[name=delivery]"))
    assert [o.text for o in delivery.options][1:] == ["Standard delivery", "Rush delivery"]
    delivery.select_by_value("rush")
    Select(customer).select_by_value("C-2")
    first = browser.find_element(By.CSS_SELECTOR, "#task-form tr.line")
    WebDriverWait(browser, 15).until(lambda b: options_loaded(first.find_element(By.CSS_SELECTOR, ".line-product")))
    # The order's line is there, with the product it had, and counts in the total.
    assert Select(first.find_element(By.CSS_SELECTOR, ".line-product")).first_selected_option.text == "Widget"
    assert browser.find_element(By.CSS_SELECTOR, ".lines-total").text == "25.00"

    browser.find_element(By.CSS_SELECTOR, "#task-form .add-line").click()
    second = browser.find_elements(By.CSS_SELECTOR, "#task-form tr.line")[1]
    WebDriverWait(browser, 15).until(lambda b: options_loaded(second.find_element(By.CSS_SELECTOR, ".line-product")))
    fill_line(second, "GADGET", "3", "4")
    assert browser.find_element(By.CSS_SELECTOR, ".lines-total").text == "37.00"
    # Nothing scrolls sideways on a phone.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    whole_page_screenshot(browser, f"lanes-task-form-{width}-{language}")
    browser.find_element(By.CSS_SELECTOR, "#task-form button[type=submit]").click()

    # Back in the inbox: its own task list or its empty note, not the task page.
    WebDriverWait(browser, 15).until(
        lambda b: b.current_url == f"{live_server.url}/" and b.find_elements(By.CSS_SELECTOR, "#tab-mine"))
    instance = ProcessInstance.objects.get(pk=review.instance_id)
    assert instance.state == ProcessInstance.COMPLETED
    assert instance.variables["delivery"] == "rush" and instance.variables["customer"] == "C-2"
    assert instance.variables["lines"] == [{"product": "WIDGET", "quantity": 2, "unit_price": "12.50"},
                                           {"product": "GADGET", "quantity": 3, "unit_price": "4"}]

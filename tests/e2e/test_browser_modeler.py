"""An analyst edits a deployed version in the browser modeler, sees a problem, fixes it and saves a new version."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from engine import connectors
from engine.deploy import _spec_cache, deploy
from engine.models import ProcessDefinition
from tests.e2e.conftest import switch_language
from tests.e2e.test_browser_diagram import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# start → user task "Review" → end, with the layout a modeler writes.
REVIEW = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Definitions_review" targetNamespace="http://example.org">
  <bpmn:process id="review" name="Review" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="check" name="Review" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="p" bpmnElement="review">
    <bpmndi:BPMNShape id="start_di" bpmnElement="start">
      <dc:Bounds x="150" y="100" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="check_di" bpmnElement="check">
      <dc:Bounds x="250" y="78" width="100" height="80" /></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="end_di" bpmnElement="end">
      <dc:Bounds x="420" y="100" width="36" height="36" /></bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1">
      <di:waypoint x="186" y="118" /><di:waypoint x="250" y="118" /></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2">
      <di:waypoint x="350" y="118" /><di:waypoint x="420" y="118" /></bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


@pytest.fixture
def deployed_review(transactional_db, roles, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _spec_cache.clear()
    analyst = User.objects.create_user("analyst", "analyst@example.com", "demo")
    analyst.groups.add(Group.objects.get(name="Analyst"))
    User.objects.create_user("seller", "seller@example.com", "demo").groups.add(Group.objects.get(name="Sales"))
    connectors.register("crm.archive_quote", lambda call: {}, description="Archive the quote in the CRM")
    yield deploy(REVIEW, "review.bpmn").definitions[0]
    connectors.unregister("crm.archive_quote")
    _spec_cache.clear()


def status(browser) -> str:
    return browser.find_element(By.CSS_SELECTOR, ".modeler-status").text


def wait_for_status(browser, words: str):
    WebDriverWait(browser, 20).until(lambda b: words in status(b), f"status never said {words!r}")


def present(browser, css: str):
    """The element matching `css` once bpmn-js has drawn it (pads and menus open a moment after the click)."""
    return WebDriverWait(browser, 10).until(EC.element_to_be_clickable((By.CSS_SELECTOR, css)))


def shape(browser, element_id: str):
    return browser.find_element(By.CSS_SELECTOR, f'.modeler-canvas .djs-element[data-element-id="{element_id}"]')


def palette_title(browser, action: str) -> str:
    """The name bpmn-js gives a palette entry (its hover tooltip and its label for screen readers)."""
    return palette_entry(browser, action).get_attribute("aria-label")


def palette_entry(browser, action: str):
    return browser.find_element(By.CSS_SELECTOR, f'.djs-palette .entry[data-action="{action}"]')


def group_title(browser, group: str) -> str:
    title = f'[data-group-id="group-{group}"] .bio-properties-panel-group-header-title'
    return browser.find_element(By.CSS_SELECTOR, title).get_attribute("textContent")


def open_new_process_in_chinese(browser, live_server):
    log_in(browser, live_server, "analyst")
    switch_language(browser, "zh-hans")
    browser.get(f"{live_server.url}/processes/modeler/")
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#modeler[data-ready=true]")))


def test_an_analyst_fixes_a_problem_and_saves_a_new_version(browser, live_server, deployed_review, screenshot):
    log_in(browser, live_server, "analyst")
    browser.get(f"{live_server.url}/processes/definitions/{deployed_review.pk}/")
    browser.find_element(By.LINK_TEXT, "Edit in the modeler").click()
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#modeler[data-ready=true]")))
    wait_for_status(browser, "No problems")
    assert palette_title(browser, "create.task") == "Create task"
    assert group_title(browser, "general") == "General"

    # Rename the task on the canvas, as a modeler does: double-click, type, click away.
    ActionChains(browser).double_click(shape(browser, "check")).perform()
    WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".djs-direct-editing-parent")))
    keys = ActionChains(browser).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL)
    keys.send_keys("Archive quote").perform()
    ActionChains(browser).move_to_element_with_offset(shape(browser, "end"), 0, 150).click().perform()
    WebDriverWait(browser, 10).until(lambda b: "Archive quote" in shape(b, "check").text)

    # Make it a service task through the replace menu: it calls nothing yet, which the server refuses.
    shape(browser, "check").click()
    present(browser, ".djs-context-pad .entry.bpmn-icon-screw-wrench").click()
    present(browser, '.djs-popup [data-id="replace-with-service-task"]').click()
    wait_for_status(browser, "1 problem(s)")
    problem = browser.find_element(By.CSS_SELECTOR, ".modeler-problems .modeler-error")
    assert "name no connector operation" in problem.text
    assert problem.get_attribute("data-element") == "check"
    assert browser.find_elements(By.CSS_SELECTOR, ".lb-problem-badge")
    assert not browser.find_element(By.CSS_SELECTOR, ".modeler-save").is_enabled()
    screenshot("50-modeler-problem")

    # Fix it with the operation picker of the properties panel (the replaced task is still selected).
    picker = WebDriverWait(browser, 10).until(EC.element_to_be_clickable(
        (By.CSS_SELECTOR, "select[name='lanebridge-operation']")))
    # Typed as a keyboard user picks from a list (type-ahead), which fires the input events a mouse pick does.
    picker.send_keys("crm.ar")
    assert Select(picker).first_selected_option.get_attribute("value") == "crm.archive_quote"
    wait_for_status(browser, "No problems")
    assert not browser.find_elements(By.CSS_SELECTOR, ".lb-problem-badge")
    screenshot("51-modeler-fixed")

    browser.find_element(By.CSS_SELECTOR, ".modeler-save").click()
    WebDriverWait(browser, 20).until(EC.url_contains("/processes/definitions/"))
    WebDriverWait(browser, 20).until(lambda b: f"/definitions/{deployed_review.pk}/" not in b.current_url)
    saved = ProcessDefinition.objects.get(process_id="review", version=2)
    assert browser.current_url.endswith(f"/processes/definitions/{saved.pk}/")
    assert 'name="Archive quote"' in saved.bpmn_xml
    assert 'camunda:topic="crm.archive_quote"' in saved.bpmn_xml
    assert "<bpmn:serviceTask" in saved.bpmn_xml


def test_people_who_do_not_model_get_403(client, deployed_review):
    client.login(username="seller", password="demo")

    assert client.get("/processes/modeler/").status_code == 403
    assert client.get(f"/processes/definitions/{deployed_review.pk}/edit/").status_code == 403
    assert client.post("/processes/modeler/save/").status_code == 403


def test_a_new_process_opens_in_chinese_on_a_phone_without_scrolling_sideways(
        browser, live_server, deployed_review, screenshot):
    browser.set_window_size(390, 844)
    open_new_process_in_chinese(browser, live_server)

    wait_for_status(browser, "没有问题")
    assert shape(browser, "start").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, ".modeler-save").text == "保存为新版本"
    assert palette_title(browser, "create.start-event") == "创建开始事件"
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    screenshot("52-modeler-390-zh-hans")


def test_the_palette_menus_and_properties_of_bpmn_js_are_in_chinese_for_a_chinese_analyst(
        browser, live_server, deployed_review, screenshot):
    browser.set_window_size(1280, 900)
    open_new_process_in_chinese(browser, live_server)
    wait_for_status(browser, "没有问题")

    assert palette_title(browser, "create.task") == "创建任务"
    assert palette_title(browser, "create.exclusive-gateway") == "创建网关"
    assert palette_title(browser, "hand-tool") == "激活抓手工具"
    ActionChains(browser).move_to_element(palette_entry(browser, "create.task")).perform()
    WebDriverWait(browser, 10, ignored_exceptions=[NoSuchElementException, StaleElementReferenceException]).until(
        lambda b: "创建任务" in b.find_element(By.CSS_SELECTOR, ".djs-hover-tooltip").text)
    assert group_title(browser, "general") == "常规"
    assert browser.find_element(By.CSS_SELECTOR, ".bio-properties-panel-header-type").text == "流程"

    # The start event's context pad and replace menu, and the panel of what is selected.
    shape(browser, "start").click()
    append_task = present(browser, '.djs-context-pad .entry[data-action="append.append-task"]')
    assert append_task.get_attribute("title") == "追加任务"
    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: b.find_element(By.CSS_SELECTOR, ".bio-properties-panel-header-type").text == "开始事件")
    assert group_title(browser, "general") == "常规"
    present(browser, ".djs-context-pad .entry.bpmn-icon-screw-wrench").click()
    timer_start = present(browser, '.djs-popup [data-id="replace-with-timer-start"]')
    assert timer_start.text == "定时器开始事件"
    screenshot("53-modeler-1280-zh-hans")


def test_an_analyst_marks_an_end_event_as_a_rejection_with_a_picker_and_it_is_saved(
        browser, live_server, deployed_review, screenshot):
    log_in(browser, live_server, "analyst")
    browser.get(f"{live_server.url}/processes/definitions/{deployed_review.pk}/edit/")
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#modeler[data-ready=true]")))
    wait_for_status(browser, "No problems")

    shape(browser, "end").click()
    picker = WebDriverWait(browser, 10).until(EC.element_to_be_clickable(
        (By.CSS_SELECTOR, "select[name='lanebridge-outcome']")))
    assert [o.text for o in Select(picker).options] == [
        "— from its name —", "Success", "Rejected: tell who started it"]
    picker.send_keys("Rej")  # type-ahead, as a keyboard user picks
    assert Select(picker).first_selected_option.get_attribute("value") == "rejected"
    screenshot("54-modeler-outcome")

    # Saving opens once the changed diagram has been checked again.
    present(browser, ".modeler-save").click()
    WebDriverWait(browser, 20).until(lambda b: f"/definitions/{deployed_review.pk}/" not in b.current_url
                                     and "/processes/definitions/" in b.current_url)
    saved = ProcessDefinition.objects.get(process_id="review", version=2)
    assert '<camunda:property name="outcome" value="rejected"' in saved.bpmn_xml

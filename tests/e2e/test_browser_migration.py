"""An operator migrates an instance in the browser: picks the version and a target element, sees the diff, confirms."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from engine.models import HistoryEvent, HumanTask, ProcessDefinition, ProcessInstance
from tests.e2e.test_browser_diagram import log_in
from tests.engine import bpmn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submit(browser, selector: str) -> None:
    """Click a submit button and wait until the page it posted to replaced this one."""
    button = browser.find_element(By.CSS_SELECTOR, selector)
    button.click()
    WebDriverWait(browser, 10).until(EC.staleness_of(button))


@pytest.fixture
def waiting_review(transactional_db, roles, settings):
    """`reviewing` v1 waits at `review`, claimed by ada; v2 renamed it `check`; an operator to migrate it."""
    from engine.deploy import _spec_cache, deploy
    from engine.runtime import start_instance

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _spec_cache.clear()
    User.objects.create_user("oscar", "oscar@example.com", "demo").groups.add(Group.objects.get(name="Operator"))
    ada = User.objects.create_user("ada", "ada@example.com", "demo")
    deploy(bpmn.user_task_process(tasks=("review",)), "v1.bpmn")
    deploy(bpmn.user_task_process(tasks=("check", "sign_off")), "v2.bpmn")
    instance, _ = start_instance("reviewing", {"amount": 10}, version=1)
    HumanTask.objects.filter(instance=instance).update(assignee=ada)
    yield instance
    _spec_cache.clear()


def test_the_migration_wizard_shows_the_diff_before_it_migrates(browser, live_server, waiting_review, screenshot):
    instance = waiting_review
    log_in(browser, live_server, "oscar")
    browser.get(f"{live_server.url}/processes/instances/{instance.pk}/")
    browser.find_element(By.CSS_SELECTOR, ".migrate-link a").click()
    Select(WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.ID, "to-version")))
           ).select_by_value("2")
    submit(browser, ".migrate-version button")
    picker = Select(WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.NAME, "map_0"))))
    assert [o.text for o in picker.options] == ["— same id —", "Check (check)", "Sign Off (sign_off)"]
    picker.select_by_value("check")
    screenshot("40-migration-mapping")
    submit(browser, '.migrate-plan button[value="preview"]')

    row = browser.find_element(By.CSS_SELECTOR, ".migration-diff tr.changed")
    assert "review" in row.text and "check" in row.text
    screenshot("41-migration-dry-run")
    assert ProcessInstance.objects.get(pk=instance.pk).definition.version == 1  # the dry run changed nothing
    browser.find_element(By.ID, "migrate-reason").send_keys("Review is called check now")
    submit(browser, '.migrate-confirm button[value="confirm"]')

    WebDriverWait(browser, 10).until(EC.url_to_be(f"{live_server.url}/processes/instances/{instance.pk}/"))
    assert "v2" in browser.find_element(By.TAG_NAME, "main").text
    screenshot("42-migration-done")
    instance.refresh_from_db()
    assert instance.definition == ProcessDefinition.objects.get(process_id="reviewing", version=2)
    task = HumanTask.objects.get(instance=instance)
    assert (task.element_id, task.assignee.username) == ("check", "ada")
    assert instance.history.get(kind=HistoryEvent.MIGRATED).user.username == "oscar"


def test_migrate_all_from_a_version_runs_a_dry_run_first(browser, live_server, waiting_review, screenshot):
    v1 = ProcessDefinition.objects.get(process_id="reviewing", version=1)
    log_in(browser, live_server, "oscar")
    browser.get(f"{live_server.url}/processes/definitions/{v1.pk}/")
    browser.find_element(By.LINK_TEXT, "Migrate all from v1").click()
    Select(WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.NAME, "map_0")))
           ).select_by_value("check")
    submit(browser, '.migrate-plan button[value="preview"]')

    counts = WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".migrate-counts")))
    assert counts.text == "1 of 1 can move, 0 cannot."
    screenshot("43-migrate-all-dry-run")
    browser.find_element(By.ID, "migrate-reason").send_keys("all to v2")
    submit(browser, '.migrate-confirm button[value="confirm"]')
    WebDriverWait(browser, 10).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".migration-results tr.ok")))
    assert ProcessInstance.objects.get(pk=waiting_review.pk).definition.version == 2

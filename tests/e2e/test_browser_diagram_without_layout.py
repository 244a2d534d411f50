"""A BPMN file without a diagram layout (no BPMNDI) gets a short note instead of a drawing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.approvals.conftest import BPMN
from tests.e2e.test_browser_diagram import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def definition_without_layout(transactional_db, roles, settings):
    from engine.deploy import _spec_cache, deploy

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _spec_cache.clear()
    analyst = User.objects.create_user("analyst", "analyst@example.com", "demo")
    analyst.groups.add(Group.objects.get(name="Analyst"))
    yield deploy((BPMN / "quote_approval.bpmn").read_bytes(), "quote_approval.bpmn").definitions[0]
    _spec_cache.clear()


def test_the_page_says_the_diagram_could_not_be_drawn(browser, live_server, definition_without_layout):
    log_in(browser, live_server, "analyst")
    browser.get(f"{live_server.url}/processes/definitions/{definition_without_layout.pk}/")
    note = WebDriverWait(browser, 15).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, "#diagram .diagram-error")))
    assert note.text == "The diagram could not be drawn."
    assert not browser.find_element(By.CSS_SELECTOR, "#diagram .diagram-canvas").is_displayed()
    assert "Lanes and roles" in browser.find_element(By.TAG_NAME, "main").text

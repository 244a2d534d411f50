"""The analyst marks what an end event means (camunda property `outcome`); names only decide where nothing is marked."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals.models import OrderNotice
from engine import runtime
from engine.deploy import DeployError, _spec_cache, deploy
from engine.models import ProcessDefinition, ProcessInstance

from .conftest import BPMN

MARKED = (BPMN / "marked_outcomes.bpmn").read_bytes()


@pytest.fixture
def end_at(deploy_file, demo_users):
    """Run marked_outcomes as sales to the end `path` leads to; returns the instance."""
    deploy_file("marked_outcomes.bpmn")
    # The marking must survive the stored spec, not only the parser's objects in memory.
    _spec_cache.clear()

    def run(path: str) -> ProcessInstance:
        instance, _ = runtime.start_instance("marked_outcomes", {"path": path}, business_key=f"O-{path}",
                                             user=demo_users["sales"])
        assert instance.state == ProcessInstance.COMPLETED
        return instance

    return run


def test_an_end_marked_rejected_tells_the_initiator_though_its_name_says_nothing_of_it(end_at, demo_users):
    instance = end_at("not_placed")
    assert instance.outcome == "Order not placed"
    notice = OrderNotice.objects.get(instance=instance)
    assert (notice.user, notice.kind, notice.step) == (demo_users["sales"], OrderNotice.REJECTED, "Order not placed")


def test_an_end_marked_success_tells_nobody_though_its_name_says_rejection(end_at):
    instance = end_at("handled")
    assert instance.outcome == "Rejection handled"
    assert not OrderNotice.objects.exists()


def test_an_unmarked_end_is_still_known_by_its_name(end_at):
    instance = end_at("rejected")
    assert OrderNotice.objects.get(instance=instance).kind == OrderNotice.REJECTED


def test_an_unknown_marking_is_refused_at_deploy_naming_the_end_event_and_line(db):
    content = MARKED.replace(b'name="outcome" value="success"', b'name="outcome" value="lost"')
    with pytest.raises(DeployError) as caught:
        deploy(content, "marked_outcomes.bpmn")
    lines = content.decode().splitlines()
    assert caught.value.element_id == "end_handled"
    assert caught.value.line == next(n for n, line in enumerate(lines, 1) if 'value="lost"' in line)
    assert "'lost'" in caught.value.message and "rejected, success" in caught.value.message
    assert not ProcessDefinition.objects.exists()


def test_the_api_answers_an_unknown_marking_with_400_naming_the_element_and_line(api_as, make_user):
    content = MARKED.replace(b'name="outcome" value="rejected"', b'name="outcome" value="Rejected!"')
    file = SimpleUploadedFile("marked_outcomes.bpmn", content, content_type="application/xml")
    response = api_as(make_user("analyst", "Analyst")).post("/api/v1/definitions/", {"file": file},
                                                           format="multipart")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["element_id"] == "end_not_placed" and body["line"] > 0
    assert not ProcessDefinition.objects.exists()

"""How a business rule task binds its decision's version: latest, deployment, version or version tag."""

from __future__ import annotations

import pytest

from engine.deploy import DeployError, deploy, deploy_files
from engine.models import ProcessDefinition
from engine.runtime import start_instance
from tests.engine import dmn
from tests.engine.test_decisions_required import line_of


def discount_table(value: str, version_tag: str | None = None) -> bytes:
    return dmn.dmn_file(dmn.decision("discount", [(["-", "-"], [value])], version_tag=version_tag))


def process(**binding: str) -> bytes:
    return dmn.routed_process(dmn.rule_task("decide", "discount", result_variable="discount",
                                            mapping="singleEntry", **binding), "discount > 0.2")


def decided() -> float:
    instance, _ = start_instance("pricing", {"status": "gold", "amount": 10})
    instance.refresh_from_db()
    assert instance.state == instance.ACTIVE, instance.error
    return instance.variables["discount"]


def test_a_task_bound_by_deployment_decides_with_the_version_uploaded_with_it(db):
    deploy(discount_table("0.05"), "rules.dmn")
    deploy_files([("rules.dmn", discount_table("0.1")), ("pricing.bpmn", process(decisionRefBinding="deployment"))])

    deploy(discount_table("0.3"), "rules.dmn")

    assert decided() == 0.1


def test_the_same_process_uploaded_with_a_changed_decision_is_a_new_version_deciding_with_it(db):
    deploy_files([("rules.dmn", discount_table("0.1")), ("pricing.bpmn", process(decisionRefBinding="deployment"))])
    deploy_files([("rules.dmn", discount_table("0.3")), ("pricing.bpmn", process(decisionRefBinding="deployment"))])
    deploy(discount_table("0.5"), "rules.dmn")

    again = deploy_files([("rules.dmn", discount_table("0.3")),
                          ("pricing.bpmn", process(decisionRefBinding="deployment"))])

    assert decided() == 0.3
    assert ProcessDefinition.objects.filter(process_id="pricing").count() == 2 and not again.created


def test_binding_by_deployment_without_the_dmn_file_in_the_upload_is_refused_naming_the_task_and_line(db):
    deploy(discount_table("0.1"), "rules.dmn")
    content = process(decisionRefBinding="deployment")

    with pytest.raises(DeployError) as caught:
        deploy(content, "pricing.bpmn")

    assert caught.value.element_id == "decide" and "by deployment" in caught.value.message
    assert caught.value.line == line_of(content, 'id="decide"')
    assert not ProcessDefinition.objects.exists()


def test_a_task_bound_by_version_tag_decides_with_the_latest_version_carrying_it(db):
    deploy(discount_table("0.1", version_tag="2024"), "rules.dmn")
    deploy(discount_table("0.3", version_tag="2025"), "rules.dmn")
    deploy(discount_table("0.5"), "rules.dmn")
    deploy(process(decisionRefBinding="versionTag", decisionRefVersionTag="2024"), "pricing.bpmn")
    assert decided() == 0.1

    deploy(discount_table("0.2", version_tag="2024"), "rules.dmn")

    assert decided() == 0.2


def test_a_version_tag_in_the_same_upload_is_found(db):
    deploy_files([("rules.dmn", discount_table("0.3", version_tag="v7")),
                  ("pricing.bpmn", process(decisionRefBinding="versionTag", decisionRefVersionTag="v7"))])
    deploy(discount_table("0.5"), "rules.dmn")

    assert decided() == 0.3


@pytest.mark.parametrize(("binding", "words"), [
    ({"decisionRefBinding": "versionTag", "decisionRefVersionTag": "1999"}, "tagged '1999'"),
    ({"decisionRefBinding": "versionTag"}, "camunda:decisionRefVersionTag"),
    ({"decisionRefBinding": "version", "decisionRefVersion": "7"}, "version '7'"),
    ({"decisionRefBinding": "someday"}, "'someday'"),
])
def test_binding_to_a_version_that_does_not_exist_is_refused_naming_the_task_and_line(db, binding, words):
    deploy(discount_table("0.1", version_tag="2024"), "rules.dmn")
    content = process(**binding)

    with pytest.raises(DeployError) as caught:
        deploy(content, "pricing.bpmn")

    assert caught.value.element_id == "decide" and words in caught.value.message
    assert caught.value.line == line_of(content, 'id="decide"')
    assert not ProcessDefinition.objects.exists()

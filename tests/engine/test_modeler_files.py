"""Files drawn in other modeling tools either deploy or are refused naming the element and saying why."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from engine.deploy import DeployError, deploy
from engine.models import Job, ProcessDefinition, ProcessInstance
from engine.runtime import start_instance
from tests.engine import bpmn, bpmn_extra


def reference_folder() -> Path:
    here = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "miwg-reference"
    return here if here.is_dir() else Path("/work/shared/conformance/miwg-reference")


FOLDER = reference_folder()

# file → (element the error names, words the message must contain). None would mean: it deploys.
EXPECTED: dict[str, tuple[str, str] | None] = {
    "A.1.0.bpmn": ("WFP-6-", "isExecutable"),
    "A.2.0.bpmn": ("WFP-6-", "isExecutable"),
    "A.2.1.bpmn": ("_To9ZoTOCEeSknpIVFCxNIQ", "isExecutable"),
    "A.3.0.bpmn": ("WFP-6-", "isExecutable"),
    "A.4.0.bpmn": ("WFP-6-1", "isExecutable"),
    "A.4.1.bpmn": ("sid-34746A54-1D7D-46CA-B219-0C4CEAE51170", "isExecutable"),
    "B.1.0.bpmn": ("Process_ba16239e-181e-4b9f-bc5b-0bb2ee973450", "isExecutable"),
    "B.2.0.bpmn": ("Process_ba16239e-181e-4b9f-bc5b-0bb2ee973450", "isExecutable"),
    "C.1.0.bpmn": ("archiveInvoice", "name no connector operation"),
    "C.1.1.bpmn": ("archiveInvoice", "name no connector operation"),
    "C.2.0.bpmn": ("WFP-Page_1-1", "isExecutable"),
    # A condition in prose ("Service Level == 'Premium'"), which Camunda 7 refuses too.
    "C.3.0.bpmn": ("_be893987-caec-4605-b078-bd96b7cd6c12", "Invalid condition"),
    "C.4.0.bpmn": ("_788443d9-65f0-43a4-96a8-63e8d6f380a7", "neither a loopMaximum nor a loop condition"),
    "C.5.0.bpmn": None,
    # Its compensation runs; its message events name no message, as Camunda 7 requires too.
    "C.6.0.bpmn": ("_15fef309-6718-4352-9b71-f757bcd8c023", "names none"),
    # Its business rule task names no decision either (see test_decisions).
    "C.7.0.bpmn": ("_a36ddf2f-23c1-46c5-86d4-bd2a0eb42535", "is multi-instance but says neither"),
    "C.8.0.bpmn": ("VacationRequestProcess", "isExecutable"),
    # Its data inputs are ignored as Camunda 7 ignores them; its service tasks call nothing.
    "C.8.1.bpmn": ("_2b960d84-feb1-46a9-a1a1-c300dd996b99", "name no connector operation"),
    "C.9.0.bpmn": ("ServiceTask_CancelApplication", "name no connector operation"),
    "C.9.1.bpmn": None,
    "C.9.2.bpmn": ("CallActivity_RequestDocument", "multi-instance"),
}

# A developer without the shared folder may skip these; in CI a missing folder fails them instead.
needs_files = pytest.mark.skipif(not FOLDER.is_dir() and not os.environ.get("CI"),
                                 reason=f"MIWG reference files not found in {FOLDER}")


def line_of(content: bytes, needle: str) -> int:
    return content.decode().splitlines().index(next(x for x in content.decode().splitlines() if needle in x)) + 1


def rejected(content: bytes, **kwargs) -> DeployError:
    with pytest.raises(DeployError) as caught:
        deploy(content, "drawn.bpmn", **kwargs)
    return caught.value


@needs_files
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_reference_file_deploys_or_is_refused_naming_the_element_and_line(db, name):
    content = (FOLDER / name).read_bytes()
    expected = EXPECTED[name]
    if expected is None:
        deployment = deploy(content, name)
        assert deployment.definitions
        for definition in deployment.definitions:
            instance, _ = start_instance(definition.process_id, {})
            instance.refresh_from_db()
            assert instance.state != ProcessInstance.FAILED, instance.error
        return

    error = rejected(content)

    element_id, words = expected
    assert error.element_id == element_id
    assert words in error.message
    assert repr(element_id) in error.message
    assert error.line == line_of(content, f'id="{element_id}"')


@needs_files
def test_the_expectations_cover_every_reference_file():
    assert sorted(p.name for p in FOLDER.glob("*.bpmn")) == sorted(EXPECTED)


@needs_files
def test_a_file_with_several_problems_says_where_the_others_are(db):
    error = rejected((FOLDER / "C.9.0.bpmn").read_bytes())

    # The interrupting event sub-process comes first; the unbound service tasks are listed after it.
    assert "more problem(s)" in error.message
    assert "'ServiceTask_CancelApplication'" in error.message


def test_unbound_service_tasks_are_all_named_with_how_to_bind_them(db):
    content = bpmn_extra.unbound_services_process(tasks=("archive", "notify"))

    error = rejected(content)

    assert error.element_id == "archive"
    assert error.line == line_of(content, 'id="archive"')
    assert "'archive' (\"Archive\"" in error.message and "'notify' (\"Notify\"" in error.message
    assert "bindings" in error.message


def test_a_binding_makes_a_service_task_without_operator_call_the_bound_operation(db, operation):
    operation("test.archive", lambda call: {"archived": True})
    content = bpmn_extra.unbound_services_process(tasks=("archive",))

    deployment = deploy(content, "drawn.bpmn", bindings={"archive": "test.archive"})
    instance, _ = start_instance("invoicing", {})

    assert deployment.warnings == []
    job = Job.objects.get(instance=instance)
    assert (job.operation, job.element_id, job.state) == ("test.archive", "archive", Job.PENDING)


def test_the_result_of_a_bound_operation_lands_in_a_variable_named_after_the_task(
        db, operation, django_capture_on_commit_callbacks):
    operation("test.archive", lambda call: {"archived": True})
    deploy(bpmn_extra.unbound_services_process(tasks=("archive",)), "drawn.bpmn", bindings={"archive": "test.archive"})

    with django_capture_on_commit_callbacks(execute=True):
        instance, _ = start_instance("invoicing", {})

    instance.refresh_from_db()
    assert instance.variables["archive"] == {"archived": True}
    assert instance.human_tasks.get().element_id == "after"


def test_the_stored_file_carries_the_binding_so_redeploying_it_needs_none(db, operation):
    operation("test.archive", lambda call: {})
    first = deploy(bpmn_extra.unbound_services_process(tasks=("archive",)), "drawn.bpmn",
                   bindings={"archive": "test.archive"}).definitions[0]

    assert 'camunda:topic="test.archive"' in first.bpmn_xml
    again = deploy(first.bpmn_xml.encode(), "drawn.bpmn")
    assert again.created is False
    assert again.definitions[0].pk == first.pk


def test_binding_an_unknown_operation_deploys_with_a_warning(db):
    deployment = deploy(bpmn_extra.unbound_services_process(tasks=("archive",)), "drawn.bpmn",
                        bindings={"archive": "erp.not_registered_here"})

    [warning] = deployment.warnings
    assert "'archive'" in warning and "erp.not_registered_here" in warning


def test_a_binding_for_an_element_that_is_not_a_service_task_is_refused(db):
    error = rejected(bpmn_extra.unbound_services_process(tasks=("archive",)),
                     bindings={"archive": "test.archive", "after": "test.archive"})

    assert "'after'" in error.message and "no service task" in error.message


def test_a_binding_that_is_not_an_operation_name_is_refused(db):
    error = rejected(bpmn_extra.unbound_services_process(tasks=("archive",)), bindings={"archive": "rm -rf /"})

    assert "'archive'" in error.message and "not an operation name" in error.message


@pytest.mark.parametrize(
    ("content", "element_id", "words"),
    [
        (bpmn_extra.complex_gateway_process(), "decide", "complex gateway"),
        (bpmn_extra.subprocess_without_start(), "repair", "has no start event"),
        (bpmn_extra.multi_instance_without_cardinality(), "check", "loop cardinality"),
        (bpmn_extra.data_object_without_reference_process(kind="scriptTask"), "review", "data object reference"),
    ],
    ids=["complex-gateway",
         "subprocess-without-start", "multi-instance-without-cardinality", "data-object-without-reference"],
)
def test_elements_spiffworkflow_would_misrun_or_reject_vaguely_are_refused_by_name(db, content, element_id, words):
    error = rejected(content)

    assert error.element_id == element_id
    assert repr(element_id) in error.message
    assert words in error.message.lower()
    assert error.line == line_of(content, f'id="{element_id}"')


def test_a_non_interrupting_event_subprocess_still_deploys(db):
    assert deploy(bpmn_extra.event_subprocess_process(interrupting=False), "drawn.bpmn").created


def test_a_drawn_data_store_is_ignored_with_a_warning_and_the_process_runs(db):
    deployment = deploy(bpmn_extra.data_store_process(), "drawn.bpmn")
    instance, _ = start_instance("stored", {})

    [warning] = deployment.warnings
    assert "'Customer DB'" in warning and "'enter'" in warning
    assert instance.human_tasks.get().element_id == "enter"
    # The analyst's drawing is stored as uploaded, data store included.
    assert "crm_db" in deployment.definitions[0].bpmn_xml


def test_a_camunda_condition_outside_the_translated_subset_is_refused_saying_which_language_it_is(db):
    error = rejected(bpmn.gateway_process(condition="${execution.getVariables().amount > 1000}"))

    assert error.element_id == "to_manager"
    assert "JUEL" in error.message and "Python" in error.message


def test_a_non_executable_file_names_its_processes(db):
    error = rejected(bpmn.chain("drawing", bpmn.user_task("review"), executable=False, name="Drawing"))

    assert error.element_id == "drawing"
    assert "'drawing'" in error.message and "isExecutable=\"true\"" in error.message


def test_the_api_accepts_bindings_next_to_the_file(make_user, api_as, operation):
    operation("test.archive", lambda call: {})
    client = api_as(make_user("analyst", "Analyst"))
    content = bpmn_extra.unbound_services_process(tasks=("archive",))

    def upload(bindings: str):
        return client.post("/api/v1/definitions/", {
            "file": SimpleUploadedFile("drawn.bpmn", content, content_type="application/xml"),
            "bindings": bindings,
        }, format="multipart")

    unbound = upload("")
    assert unbound.status_code == 400 and unbound.json()["element_id"] == "archive"
    assert upload("{not json").status_code == 400
    bound = upload(json.dumps({"archive": "test.archive"}))
    assert bound.status_code == 201, bound.content
    assert ProcessDefinition.objects.get(process_id="invoicing").bpmn_xml.count('camunda:topic="test.archive"') == 1


def test_the_upload_page_accepts_bindings(client, make_user, operation):
    operation("test.archive", lambda call: {})
    client.force_login(make_user("analyst", "Analyst"))
    content = bpmn_extra.unbound_services_process(tasks=("archive",))

    page = client.get("/processes/")
    assert b'name="bindings"' in page.content
    refused = client.post("/processes/", {"file": SimpleUploadedFile("drawn.bpmn", content)})
    assert "archive" in refused.content.decode()
    deployed = client.post("/processes/", {"file": SimpleUploadedFile("drawn.bpmn", content),
                                           "bindings": '{"archive": "test.archive"}'})
    assert deployed.status_code == 302
    assert ProcessDefinition.objects.filter(process_id="invoicing").exists()


def test_a_service_tasks_data_association_is_ignored_with_a_warning_and_the_call_still_runs(
        db, operation, django_capture_on_commit_callbacks):
    calls = []
    operation("erp.archive", lambda call: calls.append(call.input) or {"archived": True})
    task = bpmn.service_task("archive", "erp.archive", {"number": "number"}).replace(
        "    </bpmn:serviceTask>\n",
        "      <bpmn:ioSpecification><bpmn:dataInput id=\"archive_in\" />"
        "<bpmn:inputSet><bpmn:dataInputRefs>archive_in</bpmn:dataInputRefs></bpmn:inputSet>"
        "<bpmn:outputSet /></bpmn:ioSpecification>\n"
        "      <bpmn:dataInputAssociation id=\"reads\"><bpmn:sourceRef>invoice</bpmn:sourceRef>"
        "<bpmn:targetRef>archive_in</bpmn:targetRef></bpmn:dataInputAssociation>\n"
        "    </bpmn:serviceTask>\n")

    deployment = deploy(bpmn.chain("archiving", task, bpmn.user_task("after")), "drawn.bpmn")
    with django_capture_on_commit_callbacks(execute=True):
        instance, _ = start_instance("archiving", {"number": "INV-7"})

    [warning] = deployment.warnings
    assert "'archive'" in warning and "'invoice'" in warning and "parameters and result variable" in warning
    assert calls == [{"number": "INV-7"}]
    instance.refresh_from_db()
    assert instance.variables["result"] == {"archived": True}

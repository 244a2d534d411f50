"""A deploy refuses untrusted or broken files with a DeployError that names the element and line."""

from __future__ import annotations

import pytest

from engine.deploy import DeployError, deploy
from engine.models import ProcessDefinition
from engine.runtime import start_instance
from tests.engine import bpmn

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

def line_of(content: bytes, needle: str) -> int:
    """1-based line of the first line of `content` containing `needle`."""
    for number, line in enumerate(content.decode().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in content")

def rejected(content: bytes) -> DeployError:
    with pytest.raises(DeployError) as caught:
        deploy(content, "upload.bpmn")
    assert caught.value.message
    assert not ProcessDefinition.objects.exists()
    return caught.value

def test_it_rejects_an_svg_file(db):
    error = rejected(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><rect /></svg>')

    assert "Not a BPMN" in error.message
    assert "svg" in error.message

def test_it_rejects_an_html_page(db):
    error = rejected(b"<html><head><title>x</title></head><body>hello</body></html>")

    assert "Not a BPMN" in error.message

def test_it_rejects_malformed_xml_with_the_line(db):
    content = bpmn.user_task_process().replace(b"</bpmn:process>", b"<bpmn:task>\n</bpmn:process>")

    error = rejected(content)

    assert error.message.startswith("Malformed XML")
    assert error.line == line_of(content, "</bpmn:process>")

def test_it_rejects_an_xml_bomb(db):
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">' for i in range(1, 10)
    )
    content = (
        f'<?xml version="1.0"?>\n<!DOCTYPE bpmn:definitions [{entities}]>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="d" targetNamespace="t">\n'
        '<bpmn:process id="p" isExecutable="true"><bpmn:documentation>&lol9;</bpmn:documentation>'
        '<bpmn:startEvent id="s" /></bpmn:process>\n</bpmn:definitions>\n'
    ).encode()

    error = rejected(content)

    assert "lollollol" not in error.message
    assert len(error.message) < 500

def test_it_rejects_an_external_entity_without_reading_the_file(db):
    content = (
        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="d" targetNamespace="t">\n'
        '<bpmn:process id="p" name="&xxe;" isExecutable="true"><bpmn:startEvent id="s" /></bpmn:process>\n'
        "</bpmn:definitions>\n"
    ).encode()

    error = rejected(content)

    shown = f"{error.message} {error.as_dict()} {error!r}"
    assert "root:" not in shown
    assert "/bin/" not in shown

def test_it_rejects_a_file_over_5_mb(db):
    padding = b"<!--" + b"x" * (5 * 1024 * 1024) + b"-->\n"
    content = bpmn.user_task_process().replace(b"<bpmn:process", padding + b"<bpmn:process", 1)

    error = rejected(content)

    assert "limit" in error.message

def test_it_rejects_a_file_with_no_executable_process(db):
    error = rejected(bpmn.chain("drawing", bpmn.user_task("review"), executable=False))

    assert "executable" in error.message

def test_it_rejects_a_sequence_flow_to_a_missing_element(db):
    content = bpmn.definitions(
        "dangling",
        bpmn.start_event() + bpmn.end_event()
        + bpmn.flow("to_end", "start", "end") + bpmn.flow("lost", "start", "nowhere"),
    )

    error = rejected(content)

    # The analyst has to find the broken flow, not its innocent source.
    assert error.element_id == "lost"
    assert "nowhere" in error.message
    assert error.line == line_of(content, 'id="lost"')

def test_it_rejects_a_service_task_without_operator_naming_the_element(db):
    content = bpmn.chain("unbound", bpmn.service_task("call_erp", None))

    error = rejected(content)

    assert error.element_id == "call_erp"
    assert "call_erp" in error.message
    assert error.line == line_of(content, 'id="call_erp"')

def test_it_rejects_a_script_that_imports_at_deploy_naming_the_element(db):
    error = rejected(bpmn.script_process("import os\nx = os.getpid()"))

    assert error.element_id == "script"
    assert "script" in error.message
    assert "import" in error.message

def test_it_rejects_a_condition_with_a_syntax_error(db):
    error = rejected(bpmn.gateway_process(condition="amount >"))

    assert error.element_id in ("decide", "to_manager")

@pytest.mark.parametrize(
    ("content", "element_id"),
    [
        (bpmn.chain("unbound", bpmn.service_task("call_erp", None)), "call_erp"),
        (bpmn.script_process("import os"), "script"),
        (bpmn.script_process("x = ().__class__"), "script"),
    ],
    ids=["service-without-operator", "script-import", "script-dunder"],
)
def test_element_errors_carry_the_line_of_the_element(db, content, element_id):
    error = rejected(content)

    assert error.element_id == element_id
    assert error.line == line_of(content, f'id="{element_id}"')

@pytest.mark.parametrize("element_id", ["Start", "End", "Root"])
def test_an_element_id_that_spiffworkflow_uses_itself_is_refused_or_runs(db, element_id):
    # SpiffWorkflow names its own internal task specs Start, End and Root.
    content = bpmn.definitions(
        "clashing",
        bpmn.start_event(element_id) + bpmn.user_task("review") + bpmn.end_event("finish")
        + bpmn.flow("f1", element_id, "review") + bpmn.flow("f2", "review", "finish"),
    )
    try:
        deploy(content, "clash.bpmn")
    except DeployError as error:
        assert error.element_id == element_id
        return

    instance, _ = start_instance("clashing", {})
    assert instance.human_tasks.get().element_id == "review"

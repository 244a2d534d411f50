"""Builders for DMN decision tables as Camunda Modeler writes them, and processes with a business rule task."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from tests.engine import bpmn

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DMN11 = "http://www.omg.org/spec/DMN/20151101/dmn.xsd"


def table(decision_id: str, rules: list[tuple[list[str], list[str]]], *, namespace: str = DMN13,
          extra_decision: str = "", **options) -> bytes:
    """A DMN file with one decision table (see `decision`), and `extra_decision` after it."""
    return dmn_file(decision(decision_id, rules, **options) + extra_decision, namespace=namespace)


def dmn_file(decisions: str, *, namespace: str = DMN13, definitions_id: str = "Definitions_1") -> bytes:
    """A DMN file holding the `decisions` elements."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<definitions xmlns="{namespace}" xmlns:camunda="http://camunda.org/schema/1.0/dmn" '
        f'id="{definitions_id}" name="DRD" namespace="http://camunda.org/schema/1.0/dmn">\n'
        f"{decisions}</definitions>\n"
    ).encode()


def decision(decision_id: str, rules: list[tuple[list[str], list[str]]], *, hit_policy: str = "UNIQUE",
             inputs: list[tuple[str, ...]] = (("Customer status", "status", "string"), ("Amount", "amount", "double")),
             outputs: list[str | tuple[str, ...]] = ("discount",), aggregation: str | None = None,
             name: str = "", requires: tuple[str, ...] = (), version_tag: str | None = None,
             rule_ids: str = "") -> str:
    """A decision table; `rules` are (input entries, output entries) as typed in the modeler.

    An input is (label, expression) or (label, expression, typeRef). An output given as (name, output values)
    lists its values, e.g. ("risk", '"high","medium","low"'); (name, output values, typeRef) types it too.
    `requires` are the ids of the decisions it requires; `rule_ids` prefixes its rules' ids, which a file with
    several tables needs to keep them unique.
    """
    policy = f' hitPolicy="{hit_policy}"' if hit_policy != "UNIQUE" else ""
    if aggregation:
        policy += f' aggregation="{aggregation}"'
    columns = "".join(
        f'      <input id="Input_{decision_id}_{i}" label={quoteattr(label)}>\n'
        f'        <inputExpression id="InputExpression_{decision_id}_{i}"{_type(typed)}>'
        f"<text>{escape(expression)}</text></inputExpression>\n      </input>\n"
        for i, (label, expression, *typed) in enumerate(inputs, start=1)
    )
    for i, output in enumerate(outputs, start=1):
        out_name, values, *typed = (output, None) if isinstance(output, str) else output
        listed = (f'<outputValues id="OutputValues_{decision_id}_{i}"><text>{escape(values)}</text></outputValues>'
                  if values else "")
        columns += (f'      <output id="Output_{decision_id}_{i}" label="{out_name}" name="{out_name}"'
                    f"{_type(typed)}>{listed}</output>\n")
    body = ""
    prefix = rule_ids
    for r, (tests, results) in enumerate(rules, start=1):
        body += f'      <rule id="{prefix}Rule_{r}">\n'
        body += "".join(f'        <inputEntry id="{prefix}UnaryTests_{r}_{i}"><text>{escape(t)}</text>'
                        "</inputEntry>\n" for i, t in enumerate(tests, start=1))
        body += "".join(f'        <outputEntry id="{prefix}Output_{r}_{i}"><text>{escape(o)}</text></outputEntry>\n'
                        for i, o in enumerate(results, start=1))
        body += "      </rule>\n"
    return (
        f'  <decision id="{decision_id}" name={quoteattr(name or decision_id)}{_tag(version_tag)}>\n'
        f"{_requirements(decision_id, requires)}"
        f'    <decisionTable id="Table_{decision_id}"{policy}>\n'
        f"{columns}{body}"
        "    </decisionTable>\n  </decision>\n"
    )


def literal(decision_id: str, text: str, variable: str, type_ref: str | None = None, *,
            requires: tuple[str, ...] = (), version_tag: str | None = None) -> str:
    """A literal expression decision whose result is `variable`."""
    return (
        f'  <decision id="{decision_id}" name="{decision_id}"{_tag(version_tag)}>\n'
        f'    <variable id="Variable_{decision_id}" name="{variable}"{_type([type_ref] if type_ref else [])} />\n'
        f"{_requirements(decision_id, requires)}"
        f'    <literalExpression id="Literal_{decision_id}"><text>{escape(text)}</text></literalExpression>\n'
        "  </decision>\n"
    )


def _requirements(decision_id: str, requires: tuple[str, ...]) -> str:
    return "".join(f'    <informationRequirement id="Requirement_{decision_id}_{ref}">'
                   f'<requiredDecision href="#{ref}" /></informationRequirement>\n' for ref in requires)


def _tag(version_tag: str | None) -> str:
    return f' camunda:versionTag="{version_tag}"' if version_tag else ""


def _type(typed: list[str]) -> str:
    return f' typeRef="{typed[0]}"' if typed else ""


def rule_task(element_id: str, decision_ref: str, result_variable: str | None = "result",
              mapping: str | None = None, **attributes: str) -> str:
    """A Camunda business rule task calling `decision_ref`."""
    attrs = f' camunda:decisionRef="{decision_ref}"' if decision_ref else ""
    if result_variable:
        attrs += f' camunda:resultVariable="{result_variable}"'
    if mapping:
        attrs += f' camunda:mapDecisionResult="{mapping}"'
    attrs += "".join(f' camunda:{key}="{value}"' for key, value in attributes.items())
    return f'    <bpmn:businessRuleTask id="{element_id}" name="Decide"{attrs} />\n'


def spiff_rule_task(element_id: str, decision_ref: str) -> str:
    """A business rule task as SpiffArena writes it."""
    return (f'    <bpmn:businessRuleTask id="{element_id}" name="Decide">\n'
            "      <bpmn:extensionElements>\n"
            f"        <spiffworkflow:calledDecisionId>{decision_ref}</spiffworkflow:calledDecisionId>\n"
            "      </bpmn:extensionElements>\n    </bpmn:businessRuleTask>\n")


def routed_process(task: str, condition: str, process_id: str = "pricing") -> bytes:
    """start → the business rule task → a gateway: `condition` leads to user task "special", else to "standard"."""
    body = (
        bpmn.start_event()
        + bpmn.flow("to_decide", "start", "decide")
        + task
        + bpmn.flow("to_route", "decide", "route")
        + bpmn.exclusive_gateway("route", default="to_standard")
        + bpmn.flow("to_special", "route", "special", condition)
        + bpmn.flow("to_standard", "route", "standard")
        + bpmn.user_task("special")
        + bpmn.user_task("standard")
        + bpmn.flow("special_done", "special", "end")
        + bpmn.flow("standard_done", "standard", "end")
        + bpmn.end_event()
    )
    return bpmn.definitions(process_id, body)

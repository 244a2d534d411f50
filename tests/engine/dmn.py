"""Builders for DMN decision tables as Camunda Modeler writes them, and processes with a business rule task."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from tests.engine import bpmn

DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DMN11 = "http://www.omg.org/spec/DMN/20151101/dmn.xsd"


def table(decision_id: str, rules: list[tuple[list[str], list[str]]], *, hit_policy: str = "UNIQUE",
          inputs: list[tuple[str, ...]] = (("Customer status", "status", "string"), ("Amount", "amount", "double")),
          outputs: list[str | tuple[str, ...]] = ("discount",), aggregation: str | None = None,
          name: str = "", namespace: str = DMN13, extra_decision: str = "") -> bytes:
    """A DMN file with one decision table; `rules` are (input entries, output entries) as typed in the modeler.

    An input is (label, expression) or (label, expression, typeRef). An output given as (name, output values)
    lists its values, e.g. ("risk", '"high","medium","low"'); (name, output values, typeRef) types it too.
    """
    policy = f' hitPolicy="{hit_policy}"' if hit_policy != "UNIQUE" else ""
    if aggregation:
        policy += f' aggregation="{aggregation}"'
    columns = "".join(
        f'      <input id="Input_{i}" label={quoteattr(label)}>\n'
        f'        <inputExpression id="InputExpression_{i}"{_type(typed)}><text>{escape(expression)}</text>'
        "</inputExpression>\n      </input>\n"
        for i, (label, expression, *typed) in enumerate(inputs, start=1)
    )
    for i, output in enumerate(outputs, start=1):
        out_name, values, *typed = (output, None) if isinstance(output, str) else output
        listed = (f'<outputValues id="OutputValues_{i}"><text>{escape(values)}</text></outputValues>'
                  if values else "")
        columns += (f'      <output id="Output_{i}" label="{out_name}" name="{out_name}"{_type(typed)}>'
                    f"{listed}</output>\n")
    body = ""
    for r, (tests, results) in enumerate(rules, start=1):
        body += f'      <rule id="Rule_{r}">\n'
        body += "".join(f'        <inputEntry id="UnaryTests_{r}_{i}"><text>{escape(t)}</text></inputEntry>\n'
                        for i, t in enumerate(tests, start=1))
        body += "".join(f'        <outputEntry id="Output_{r}_{i}"><text>{escape(o)}</text></outputEntry>\n'
                        for i, o in enumerate(results, start=1))
        body += "      </rule>\n"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<definitions xmlns="{namespace}" xmlns:camunda="http://camunda.org/schema/1.0/dmn" '
        f'id="Definitions_{decision_id}" name="DRD" namespace="http://camunda.org/schema/1.0/dmn">\n'
        f'  <decision id="{decision_id}" name={quoteattr(name or decision_id)}>\n'
        f'    <decisionTable id="Table_{decision_id}"{policy}>\n'
        f"{columns}{body}"
        "    </decisionTable>\n  </decision>\n"
        f"{extra_decision}"
        "</definitions>\n"
    ).encode()


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

"""DMN decisions: read at deploy, translated into restricted Python, stored, and named by business rule tasks.

SpiffWorkflow's DMN package evaluates entries as Python, knows only the UNIQUE
(without checking it) and COLLECT hit policies, no aggregation, no
``mapDecisionResult``, and copies the table into every process that uses it.
Here a DMN file deploys as its own versioned decisions
(``DecisionDefinition``); each input entry as Camunda Modeler writes it
(``"gold","platinum"``, ``-``, ``> 1000``, ``[0..1000]``, ``not("x")``) is
translated once at deploy into a Python condition over ``cellInput`` and
decided in the script sandbox like every other expression; a business rule task
names its decision by ``camunda:decisionRef`` (or spiff's ``calledDecisionId``)
and reads the latest version when it runs, as Camunda 7's default binding does,
or the one its ``camunda:decisionRefBinding`` names. A literal-expression
decision is stored as a one-output table without rules; the decisions a decision
requires are stored inside its table, in the order they are decided.
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.db import IntegrityError, transaction
from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.serializer.task_spec import SpiffBpmnTaskConverter
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

from engine import expressions
from engine.deciding import CELL, DecisionFailed, decide, map_result, merged, stored_table, tagged_versions
from engine.modeler import ModelError, describe
from engine.models import DecisionDefinition

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
CAMUNDA_DMN_NS = "http://camunda.org/schema/1.0/dmn"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
# DMN 1.1, 1.2 and 1.3, by the namespace of their root element.
DMN_VERSIONS = {
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd": "1.1",
    "http://www.omg.org/spec/DMN/20180521/MODEL/": "1.2",
    "https://www.omg.org/spec/DMN/20191111/MODEL/": "1.3",
}
HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
RESULT_MAPPINGS = ("resultList", "singleResult", "singleEntry", "collectEntries")
# The variable an input entry tests, as in Camunda.
# Expression languages whose text this module translates.
FEEL_LANGUAGES = {"", "feel", "juel", "https://www.omg.org/spec/dmn/20191111/feel/",
                  "http://www.omg.org/spec/dmn/20180521/feel/", "http://www.omg.org/spec/feel/20140401"}


ExpressionError = expressions.ExpressionError


def is_dmn(tree: etree._ElementTree) -> bool:
    """Whether the file is a DMN file, of any version (its root is a DMN definitions element)."""
    root = etree.QName(tree.getroot())
    return root.localname == "definitions" and "/spec/DMN/" in (root.namespace or "")


def unread_version(tree: etree._ElementTree) -> str | None:
    """The namespace of a DMN file of a version Lanebridge does not read, else None."""
    namespace = etree.QName(tree.getroot()).namespace
    return namespace if namespace not in DMN_VERSIONS else None


def schema_file(tree: etree._ElementTree) -> str:
    """The XSD of the file's DMN version."""
    return SCHEMAS[etree.QName(tree.getroot()).namespace]


# --- Reading a DMN file -------------------------------------------------------------------------------------------


@dataclass
class Decision:
    """One decision of an uploaded file (a table or a literal expression), translated."""

    decision_id: str
    name: str
    hit_policy: str
    table: dict


def read_decisions(tree: etree._ElementTree) -> list[Decision]:
    """The decisions of a DMN file, translated; raises ModelError naming the element for anything else."""
    root = tree.getroot()
    ns = {"dmn": etree.QName(root).namespace}
    found = root.findall("dmn:decision", ns)
    if not found:
        raise ModelError("The DMN file has no decision: draw a decision with a decision table", root)
    decisions = [_read_decision(element, ns) for element in found]
    seen: set[str] = set()
    for decision, element in zip(decisions, found, strict=True):
        if decision.decision_id in seen:
            raise ModelError(f"Two decisions have the id {decision.decision_id!r}", element)
        seen.add(decision.decision_id)
    _link_requirements(decisions, found, ns)
    return decisions


def _read_decision(element: etree._Element, ns: dict) -> Decision:
    decision_id = element.get("id")
    where = f"Decision {decision_id!r}"
    name = " ".join((element.get("name") or decision_id).split())
    literal = element.find("dmn:literalExpression", ns)
    if literal is not None:
        table = _read_literal(where, element, literal, ns)
        hit_policy = ""
    else:
        table, hit_policy = _read_table(where, element, ns)
    table.update(decision_id=decision_id, name=name, version_tag=element.get(f"{{{CAMUNDA_DMN_NS}}}versionTag"))
    return Decision(decision_id, name, hit_policy, table)


def _read_table(where: str, element: etree._Element, ns: dict) -> tuple[dict, str]:
    table = element.find("dmn:decisionTable", ns)
    if table is None:
        raise ModelError(f"{where} has neither a decision table nor a literal expression; Lanebridge runs those "
                         "two", element)
    policy = (table.get("hitPolicy") or "UNIQUE").upper().replace("_", " ")
    aggregation = (table.get("aggregation") or "").upper() or None
    if policy not in HIT_POLICIES:
        raise ModelError(f"{where} has hit policy {policy!r}; Lanebridge knows {', '.join(HIT_POLICIES)}", table)
    if aggregation and (policy != "COLLECT" or aggregation not in AGGREGATIONS):
        raise ModelError(f"{where} aggregates by {aggregation!r}: only COLLECT aggregates, by "
                         f"{', '.join(AGGREGATIONS)}", table)
    inputs = [_read_input(where, column, ns) for column in table.findall("dmn:input", ns)]
    outputs = [_read_output(where, column, ns) for column in table.findall("dmn:output", ns)]
    if not outputs:
        raise ModelError(f"{where} has no output column", table)
    if aggregation and len(outputs) != 1:
        raise ModelError(f"{where} aggregates ({aggregation}) but has {len(outputs)} outputs: an aggregation "
                         "needs exactly one", table)
    if len({o["name"] for o in outputs}) != len(outputs):
        raise ModelError(f"{where} has two outputs with the same name: name each output", table)
    if policy in ("PRIORITY", "OUTPUT ORDER") and not any(o["priorities"] for o in outputs):
        raise ModelError(f"{where} has hit policy {policy}, which orders results by their output values: list "
                         "the output values in priority order (e.g. \"high\",\"medium\",\"low\")", table)
    rules = [_read_rule(where, rule, number, inputs, outputs, ns)
             for number, rule in enumerate(table.findall("dmn:rule", ns), start=1)]
    hit_policy = f"{policy} {aggregation}" if aggregation else policy
    return {"hit_policy": policy, "aggregation": aggregation, "inputs": inputs, "outputs": outputs,
            "rules": rules}, hit_policy


def _read_literal(where: str, element: etree._Element, literal: etree._Element, ns: dict) -> dict:
    """A literal expression decision: one expression whose value is the result, named by its variable."""
    variable = element.find("dmn:variable", ns)
    name = variable.get("name") if variable is not None else None
    if not name:
        raise ModelError(f"{where} is a literal expression without a variable name: name its result (in Camunda "
                         "Modeler: Variable name)", literal)
    text = _text(literal, ns)
    if not text:
        raise ModelError(f"{where} has an empty literal expression: write the expression giving its result",
                         literal)
    _check_language(where, "the literal expression", literal, literal)
    try:
        python = _expression(text)
    except expressions.ExpressionError as exc:
        raise ModelError(f"{where}: the literal expression {text!r} is outside what Lanebridge translates ({exc})",
                         literal) from None
    output = {"id": variable.get("id") or name, "name": name, "label": name, "priorities": None,
              "type": variable.get("typeRef")}
    # Shaped as a one-rule table, so hit policies, result mappings and merging treat both kinds alike.
    return {"literal": python, "hit_policy": "UNIQUE", "aggregation": None, "inputs": [], "outputs": [output],
            "rules": []}


def _link_requirements(decisions: list[Decision], elements: list[etree._Element], ns: dict) -> None:
    """Give each decision the tables of the decisions it requires, in the order they are decided, each once."""
    by_id = {d.decision_id: d for d in decisions}
    requires: dict[str, list[str]] = {}
    for decision, element in zip(decisions, elements, strict=True):
        requires[decision.decision_id] = []
        for required in element.findall("dmn:informationRequirement/dmn:requiredDecision", ns):
            href = required.get("href") or ""
            ref = href.split("#", 1)[1] if "#" in href else href
            if href.split("#", 1)[0] or ref not in by_id:
                raise ModelError(f"Decision {decision.decision_id!r} requires decision {href!r}, which is not in "
                                 "this file: draw the required decision in the same DMN file", required)
            requires[decision.decision_id].append(ref)
    placed = {d.decision_id: element for d, element in zip(decisions, elements, strict=True)}
    for decision in decisions:
        order = _dependency_order(decision.decision_id, requires, [], placed)
        decision.table["required"] = [
            {key: value for key, value in by_id[ref].table.items() if key != "required"} for ref in order[:-1]]


def _dependency_order(decision_id: str, requires: dict, path: list[str], placed: dict) -> list[str]:
    """`decision_id` after everything it requires, depth first; ModelError naming the cycle if there is one."""
    if decision_id in path:
        cycle = " → ".join([*path[path.index(decision_id):], decision_id])
        raise ModelError(f"Decision {decision_id!r} requires itself through {cycle}: a decision cannot depend on "
                         "its own result", placed[decision_id])
    order: list[str] = []
    for ref in requires[decision_id]:
        for found in _dependency_order(ref, requires, [*path, decision_id], placed):
            if found not in order:
                order.append(found)
    order.append(decision_id)
    return order


def _text(element: etree._Element | None, ns: dict) -> str:
    found = element.find("dmn:text", ns) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _column(column: etree._Element) -> str:
    return column.get("label") or column.get("name") or column.get("id")


def _read_input(where: str, column: etree._Element, ns: dict) -> dict:
    expression = column.find("dmn:inputExpression", ns)
    text = _text(expression, ns)
    label = _column(column)
    if not text:
        raise ModelError(f"{where}, input {label!r} has no input expression: name the variable it reads", column)
    _check_language(where, f"input {label!r}", expression, column)
    try:
        python = _expression(text)
    except expressions.ExpressionError as exc:
        raise ModelError(f"{where}, input {label!r}: the expression {text!r} is outside what Lanebridge "
                         f"translates ({exc}); write a variable or property path such as customer.status",
                         column) from None
    variable = column.get(f"{{{CAMUNDA_DMN_NS}}}inputVariable")
    return {"id": column.get("id"), "label": label, "expression": python, "variable": variable or None,
            "type": expression.get("typeRef")}


def _read_output(where: str, column: etree._Element, ns: dict) -> dict:
    name = column.get("name") or column.get("id")
    priorities = None
    values = column.find("dmn:outputValues", ns)
    if values is not None and _text(values, ns):
        try:
            priorities = [ast.literal_eval(_endpoint(part)) for part in _split(_text(values, ns))]
        except (ValueError, SyntaxError, expressions.ExpressionError):
            raise ModelError(f"{where}, output {_column(column)!r}: its output values "
                             f"{_text(values, ns)!r} must be literals such as \"high\",\"low\"", column) from None
    return {"id": column.get("id"), "name": name, "label": _column(column), "priorities": priorities,
            "type": column.get("typeRef")}


def _check_language(where: str, what: str, element: etree._Element | None, column: etree._Element) -> None:
    language = (element.get("expressionLanguage") or "") if element is not None else ""
    if language.lower() not in FEEL_LANGUAGES:
        raise ModelError(f"{where}, {what} is written in {language!r}; Lanebridge reads FEEL and JUEL", column)


def _read_rule(where: str, rule: etree._Element, number: int, inputs: list, outputs: list, ns: dict) -> dict:
    rule_id = rule.get("id") or f"row {number}"
    entries, results = rule.findall("dmn:inputEntry", ns), rule.findall("dmn:outputEntry", ns)
    if len(entries) != len(inputs) or len(results) != len(outputs):
        raise ModelError(f"{where}, rule {rule_id!r} (row {number}) has {len(entries)} input and {len(results)} "
                         f"output entries for {len(inputs)} inputs and {len(outputs)} outputs", rule)
    tests = []
    for entry, column in zip(entries, inputs, strict=True):
        text = _text(entry, ns)
        _check_language(where, f"rule {rule_id!r} (row {number}), input {column['label']!r}", entry, entry)
        try:
            tests.append(unary_tests(text))
        except expressions.ExpressionError as exc:
            raise ModelError(
                f"{where}, rule {rule_id!r} (row {number}), input {column['label']!r}: {text!r} is outside the "
                f"FEEL tests Lanebridge translates ({exc}). Write a value (\"gold\", 10), a list of values "
                "(\"gold\",\"platinum\"), a comparison (> 1000), a range ([0..1000]), not(…) or - for any",
                entry) from None
    values = []
    for entry, column in zip(results, outputs, strict=True):
        text = _text(entry, ns)
        _check_language(where, f"rule {rule_id!r} (row {number}), output {column['label']!r}", entry, entry)
        try:
            values.append(_expression(text) if text else None)
        except expressions.ExpressionError as exc:
            raise ModelError(
                f"{where}, rule {rule_id!r} (row {number}), output {column['label']!r}: {text!r} is outside what "
                f"Lanebridge translates ({exc}); write a value such as \"approve\", 0.1 or true", entry) from None
    description = rule.find("dmn:description", ns)
    return {"id": rule_id, "row": number, "tests": tests, "outputs": values,
            "description": (description.text or "").strip() if description is not None else ""}


# --- FEEL unary tests ---------------------------------------------------------------------------------------------

_COMPARISON = re.compile(r"(<=|>=|!=|<|>|=)\s*(.+)", re.S)
_RANGE = re.compile(r"([\[\](])\s*(.+?)\s*\.\.\s*(.+?)\s*([\[\])])", re.S)
_DATE = re.compile(r"(date and time|date)\s*\(\s*(\"[^\"]*\")\s*\)", re.S)
_OPERATORS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def unary_tests(text: str) -> str | None:
    """The Python condition over ``cellInput`` meaning the FEEL unary tests `text`; None for ``-`` or empty.

    Raises ExpressionError for what is outside the subset.
    """
    text = (text or "").strip()
    if text in ("", "-"):
        return None
    if expressions.language(text) == expressions.JUEL:
        return expressions.translate(text)  # a JUEL condition reading cellInput
    tests = [_one_test(part) for part in _split(text)]
    return tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"


def _one_test(text: str) -> str:
    if not text:
        raise ExpressionError("an empty test between commas")
    if text == "-":
        raise ExpressionError("- (any value) cannot be one of several tests")
    negated = re.match(r"not\s*\(", text)
    if negated and _closing(text, negated.end() - 1) == len(text) - 1:
        inner = unary_tests(text[negated.end():-1])
        if inner is None:
            raise ExpressionError("not(…) needs a test inside it")
        return f"(not ({inner}))"
    found = _RANGE.fullmatch(text)
    if found:
        opening, low, high, closing = found.groups()
        low_op = "<=" if opening == "[" else "<"
        high_op = "<=" if closing == "]" else "<"
        return f"({CELL} is not None and {_endpoint(low)} {low_op} {CELL} {high_op} {_endpoint(high)})"
    found = _COMPARISON.fullmatch(text)
    if found:
        operator, value = found.groups()
        if operator in ("=", "!="):
            return f"({CELL} {_OPERATORS[operator]} {_endpoint(value)})"
        # FEEL compares nothing with null: a missing value matches no comparison.
        return f"({CELL} is not None and {CELL} {_OPERATORS[operator]} {_endpoint(value)})"
    return f"({CELL} == {_endpoint(text)})"


def _endpoint(text: str) -> str:
    """A value in a test: a FEEL literal, variable or path, or a date (compared as its ISO text)."""
    text = text.strip()
    found = _DATE.fullmatch(text)
    if found:
        kind, literal = found.groups()
        value = literal[1:-1]
        try:
            (datetime if kind == "date and time" else date).fromisoformat(value)
        except ValueError:
            raise ExpressionError(f"{value!r} is not an ISO 8601 {kind}") from None
        # Process variables are JSON: dates are ISO text, which sorts as the dates do.
        return repr(value)
    return _expression(text)


def _expression(text: str) -> str:
    """A FEEL (or ``${…}`` JUEL) expression as Python."""
    if expressions.language(text) == expressions.JUEL:
        return expressions.translate(text)
    return expressions.translate("=" + text)


def _closing(text: str, opening: int) -> int:
    """The index of the parenthesis closing the one at `opening`, or -1."""
    depth, quoted = 0, False
    for index in range(opening, len(text)):
        char = text[index]
        if char == '"' and text[index - 1] != "\\":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _split(text: str) -> list[str]:
    """`text` split at the commas outside quotes and brackets."""
    parts, current, depth, quoted = [], [], 0, False
    for index, char in enumerate(text):
        if char == '"' and (index == 0 or text[index - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
        elif not quoted and char in ")]":
            depth -= 1
        if char == "," and not quoted and depth <= 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


# --- Storing versions ---------------------------------------------------------------------------------------------


def store(decisions: list[Decision], content: bytes, xml_text: str, file_name: str, user=None
          ) -> tuple[list[DecisionDefinition], bool]:
    """Store each decision as a new version, or return the version holding the same file; (rows, any created)."""
    content_hash = hashlib.sha256(content).hexdigest()
    stored, created = [], False
    for decision in decisions:
        existing = DecisionDefinition.objects.filter(decision_id=decision.decision_id,
                                                     content_hash=content_hash).first()
        if existing:
            stored.append(existing)
            continue
        for _attempt in range(3):
            previous = DecisionDefinition.objects.filter(decision_id=decision.decision_id).order_by("-version").first()
            try:
                with transaction.atomic():
                    row = DecisionDefinition.objects.create(
                        decision_id=decision.decision_id, version=(previous.version + 1) if previous else 1,
                        name=decision.name[:255], hit_policy=decision.hit_policy, dmn_xml=xml_text,
                        file_name=file_name[:255], content_hash=content_hash, table=decision.table,
                        deployed_by=user if user is not None and user.is_authenticated else None)
                break
            except IntegrityError:
                continue  # another deploy took this version number
        else:
            raise ModelError(f"Could not allocate a version for decision {decision.decision_id!r}; try again")
        stored.append(row)
        created = True
    return stored, created


def deployed_ids(ids: set[str]) -> set[str]:
    """Those of `ids` that are deployed decisions."""
    return set(DecisionDefinition.objects.filter(decision_id__in=ids).values_list("decision_id", flat=True))


# --- Business rule tasks ------------------------------------------------------------------------------------------


def reference(task: etree._Element) -> dict:
    """What a business rule task says about its decision: ref, version, result variable and mapping, style."""
    spiff = task.find(f"{{{BPMN_NS}}}extensionElements/{{{SPIFF_NS}}}calledDecisionId")
    camunda = task.get(f"{{{CAMUNDA_NS}}}decisionRef")
    return {
        "ref": (camunda or (spiff.text if spiff is not None else "") or "").strip(),
        "binding": task.get(f"{{{CAMUNDA_NS}}}decisionRefBinding") or "latest",
        "version": task.get(f"{{{CAMUNDA_NS}}}decisionRefVersion"),
        "version_tag": task.get(f"{{{CAMUNDA_NS}}}decisionRefVersionTag"),
        "result_variable": task.get(f"{{{CAMUNDA_NS}}}resultVariable"),
        "mapping": task.get(f"{{{CAMUNDA_NS}}}mapDecisionResult") or "resultList",
        # Spiff's own tasks merge the result into the variables; Camunda's keep it in the result variable only.
        "merge": not camunda,
    }


IMPLEMENTATIONS = ("class", "expression", "delegateExpression", "type")


BINDINGS = ("latest", "deployment", "version", "versionTag")


def reference_problems(processes: list[etree._Element], available: dict[str, str | None]) -> Iterator[ModelError]:
    """A problem for each business rule task whose decision is not deployed nor in `available` (this upload).

    `available` maps the ids of the upload's decisions to their version tags.
    """
    tasks = [t for p in processes for t in p.iter(f"{{{BPMN_NS}}}businessRuleTask")]
    refs = {reference(t)["ref"] for t in tasks}
    known = set(available) | deployed_ids(refs)
    for task in tasks:
        found = reference(task)
        problem = _binding_problem(found, available) if found["ref"] in known else None
        other = next((a for a in IMPLEMENTATIONS if task.get(f"{{{CAMUNDA_NS}}}{a}")), None)
        if not found["ref"] and other:
            yield ModelError(f"{describe(task, capital=True)} is implemented by camunda:{other}, which Lanebridge "
                             "cannot call: draw a service task naming a connector operation instead", task)
        elif not found["ref"]:
            yield ModelError(f"{describe(task, capital=True)} names no decision: set camunda:decisionRef to the id "
                             "of a DMN decision (in Camunda Modeler: Implementation DMN, Decision reference), and "
                             "deploy the DMN file first or in the same upload", task)
        elif expressions.language(found["ref"]) is not None:
            yield ModelError(f"{describe(task, capital=True)} chooses its decision by the expression "
                             f"{found['ref']!r}; name the decision id itself", task)
        elif found["ref"] not in known:
            yield ModelError(f"{describe(task, capital=True)} uses decision {found['ref']!r}, which is not deployed: "
                             "deploy its DMN file first, or upload it in the same request", task)
        elif problem:
            yield ModelError(f"{describe(task, capital=True)} {problem}", task)
        elif found["mapping"] not in RESULT_MAPPINGS:
            yield ModelError(f"{describe(task, capital=True)} maps its result by {found['mapping']!r}; "
                             f"camunda:mapDecisionResult is one of {', '.join(RESULT_MAPPINGS)}", task)


def _binding_problem(found: dict, available: dict[str, str | None]) -> str | None:
    """What is wrong with how a task binds its (deployed or uploaded) decision's version, if anything."""
    ref, binding = found["ref"], found["binding"]
    if binding not in BINDINGS:
        return (f"binds its decision by {binding!r}; camunda:decisionRefBinding is one of {', '.join(BINDINGS)}")
    if binding == "deployment" and ref not in available:
        return (f"binds decision {ref!r} by deployment, but this upload has no DMN file defining it: upload the "
                "DMN file with the process")
    if binding == "version" and not _version_exists(ref, found["version"]):
        return f"uses version {found['version']!r} of decision {ref!r}, which is not deployed"
    if binding == "versionTag" and not found["version_tag"]:
        return "binds its decision by version tag but names none: set camunda:decisionRefVersionTag"
    if binding == "versionTag" and available.get(ref) != found["version_tag"] and not tagged_versions(
            ref, found["version_tag"]).exists():
        return (f"uses the version of decision {ref!r} tagged {found['version_tag']!r}, but no version carries "
                "that tag (camunda:versionTag on the decision)")
    return None


def _version_exists(decision_id: str, version: str | None) -> bool:
    return bool(version and version.isdigit() and DecisionDefinition.objects.filter(
        decision_id=decision_id, version=int(version)).exists())


def bind_to_upload(specs: dict, stored: list[DecisionDefinition]) -> bool:
    """Pin each business rule task bound by deployment to the version of its decision stored with it; any?"""
    versions = {row.decision_id: row.version for row in stored}
    bound = False
    for spec, subprocess_specs in specs.values():
        for one in [spec, *subprocess_specs.values()]:
            for task_spec in one.task_specs.values():
                if isinstance(task_spec, DecisionTask) and task_spec.binding == "deployment":
                    task_spec.decision_version = versions[task_spec.decision_ref]
                    bound = True
    return bound


def result_warnings(processes: list[etree._Element]) -> list[str]:
    """Camunda business rule tasks without a result variable, whose result nobody will see."""
    return [
        f"{describe(t, capital=True)} has no camunda:resultVariable: as in Camunda 7, its decision's result is "
        "not kept"
        for p in processes for t in p.iter(f"{{{BPMN_NS}}}businessRuleTask")
        if t.get(f"{{{CAMUNDA_NS}}}decisionRef") and not t.get(f"{{{CAMUNDA_NS}}}resultVariable")
    ]


class DecisionTask(SpiffBpmnTask):
    """A business rule task: decides its decision's latest (or pinned, or tagged) version over the task's data."""

    def __init__(self, wf_spec, name, decision_ref: str, decision_version: int | None = None,
                 result_variable: str | None = None, mapping: str = "resultList", merge: bool = False,
                 binding: str = "latest", version_tag: str | None = None, **kwargs):
        super().__init__(wf_spec, name, **kwargs)
        self.decision_ref = decision_ref
        self.decision_version = decision_version
        self.binding = binding
        self.version_tag = version_tag
        self.result_variable = result_variable
        self.mapping = mapping
        self.merge = merge

    def _run_hook(self, my_task):
        try:
            table = stored_table(self.decision_ref, self.decision_version, self.version_tag)
            results = decide(table, my_task.data, my_task.workflow.script_engine.environment.evaluate)
            if self.result_variable:
                my_task.data[self.result_variable] = map_result(results, self.mapping, table)
            elif self.merge:
                my_task.data.update(merged(results, table))
        except DecisionFailed as exc:
            raise WorkflowTaskException(str(exc), task=my_task) from None
        return super()._run_hook(my_task)


class DecisionTaskParser(SpiffTaskParser):
    """Reads a business rule task's decision reference (Camunda's or spiff's)."""

    def create_task(self):
        found = reference(self.node)
        extensions = self.parse_extensions()
        version = int(found["version"]) if found["binding"] == "version" and found["version"] else None
        tag = found["version_tag"] if found["binding"] == "versionTag" else None
        return self.spec_class(self.spec, self.bpmn_id, decision_ref=found["ref"], decision_version=version,
                               binding=found["binding"], version_tag=tag,
                               result_variable=found["result_variable"], mapping=found["mapping"],
                               merge=found["merge"], prescript=extensions.get("preScript"),
                               postscript=extensions.get("postScript"), **self.bpmn_attributes)

    @staticmethod
    def get_decision_ref(node):
        return reference(node)["ref"]


class DecisionTaskConverter(SpiffBpmnTaskConverter):
    """Serializes a DecisionTask: its reference, not the table."""

    def to_dict(self, spec):
        dct = super().to_dict(spec)
        dct.update(decision_ref=spec.decision_ref, decision_version=spec.decision_version, binding=spec.binding,
                   version_tag=spec.version_tag,
                   result_variable=spec.result_variable, mapping=spec.mapping, merge=spec.merge)
        return dct

"""Deciding a deployed DMN decision: its rules matched in the sandbox, its hit policy, types and result mapping.

The table is what `engine.decisions` translated at deploy; every entry is a
restricted Python expression over ``cellInput`` and the variables, evaluated by
the script engine's `evaluate`, so deciding runs under the same limits as any
other expression.
"""

from __future__ import annotations

import math
from collections import ChainMap
from collections.abc import Callable
from datetime import date, datetime

from engine.models import DecisionDefinition

# The name an input entry's translated test reads the input's value by.
CELL = "cellInput"


class DecisionFailed(Exception):
    """Deciding failed at run time (two rules under UNIQUE, a result the mapping cannot hold...)."""


def tagged_versions(decision_id: str, version_tag: str):
    """The deployed versions of a decision carrying a version tag."""
    return DecisionDefinition.objects.filter(decision_id=decision_id, table__version_tag=version_tag)


def stored_table(decision_id: str, version: int | None = None, version_tag: str | None = None) -> dict:
    """The translated table of the decision's given version, else its latest one (with the tag, if given).

    DecisionFailed if there is none.
    """
    rows = tagged_versions(decision_id, version_tag) if version_tag else DecisionDefinition.objects.filter(
        decision_id=decision_id)
    if version is not None:
        rows = rows.filter(version=version)
    table = rows.order_by("-version").values_list("table", flat=True).first()
    if table is None:
        which = (f"version {version} of decision" if version is not None
                 else f"the version tagged {version_tag!r} of decision" if version_tag else "decision")
        raise DecisionFailed(f"{which} {decision_id!r} is not deployed")
    return table


Evaluate = Callable[[str, dict], object]


def decide(table: dict, variables: dict, evaluate: Evaluate) -> list[dict]:
    """The decision's result as Camunda gives it: one {output name: value} per rule the hit policy keeps.

    The decisions it requires are decided first, each once, and their results read as variables.
    `evaluate(expression, context)` evaluates a restricted Python expression (the script engine's).
    """
    context = variables
    if table.get("required"):
        decided: dict = {}
        context = ChainMap(decided, variables)
        for required in table["required"]:
            decided.update(required_result(required, _decide_one(required, context, evaluate)))
    return _decide_one(table, context, evaluate)


def required_result(table: dict, results: list[dict]) -> dict:
    """How a required decision's result reads in the decision requiring it.

    As in Camunda 7, each output by its name: the value of the one result, or the list of every
    result's values for a table that collects. Beside them, the decision's id names the whole result:
    the value for one output, {output name: value} for several, or a list of those when it collects.
    """
    names = [column["name"] for column in table["outputs"]]
    collects = table["hit_policy"] in ("COLLECT", "RULE ORDER", "OUTPUT ORDER") and not table.get("aggregation")
    shaped = [out[names[0]] if len(names) == 1 else dict(out) for out in results]
    found = {table["decision_id"]: shaped if collects else (shaped[0] if shaped else None)}
    if len(results) == 1 and not collects:
        found.update(results[0])
    elif results:
        found.update({name: [out.get(name) for out in results] for name in names})
    return found


def _decide_one(table: dict, variables, evaluate: Evaluate) -> list[dict]:
    name = f"decision {table['decision_id']!r}"
    if "literal" in table:
        return [_literal(table, variables, evaluate)]
    values = {}
    for column in table["inputs"]:
        try:
            value = evaluate(column["expression"], variables)
        except Exception as exc:  # noqa: BLE001 - any failure of the expression is the analyst's to see
            raise DecisionFailed(f"{name}, input {column['label']!r}: {type(exc).__name__}: {exc}") from None
        try:
            values[column["id"]] = convert(value, column.get("type"))
        except ValueError as exc:
            raise DecisionFailed(f"{name}, input {column['label']!r}: {exc}") from None
    matched = [rule for rule in table["rules"] if _matches(table, rule, values, variables, evaluate)]
    results = [(rule, _outputs(table, rule, variables, evaluate)) for rule in matched]
    return _apply_hit_policy(table, results)


def _literal(table: dict, variables, evaluate: Evaluate) -> dict:
    column = table["outputs"][0]
    where = f"decision {table['decision_id']!r}, literal expression"
    try:
        value = evaluate(table["literal"], variables)
    except Exception as exc:  # noqa: BLE001
        raise DecisionFailed(f"{where}: {type(exc).__name__}: {exc}") from None
    try:
        return {column["name"]: convert(value, column.get("type"))}
    except ValueError as exc:
        raise DecisionFailed(f"{where}, variable {column['name']!r}: {exc}") from None


# DMN types Camunda 7 converts values to; other type names (or none) leave the value as it is.
TYPES = ("string", "integer", "long", "double", "boolean", "date")
_INT_RANGES = {"integer": 2**31, "long": 2**63}


def convert(value, type_ref: str | None):
    """`value` as the DMN type `type_ref`, as Camunda 7 converts it; ValueError saying why it cannot be."""
    if value is None or type_ref not in TYPES:
        return value
    if type_ref == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
    elif type_ref == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    elif type_ref == "date":
        return _date(value)
    elif not isinstance(value, bool) and isinstance(value, (str, int, float)):
        return _number(value, type_ref)
    raise ValueError(f"{value!r} cannot be converted to {type_ref}")


def _number(value, type_ref: str):
    try:
        if type_ref == "double" or isinstance(value, float):
            number = float(value)
        else:
            number = int(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise ValueError(f"{value!r} cannot be converted to {type_ref}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    if type_ref == "double":
        return number
    if number != int(number) or not -_INT_RANGES[type_ref] <= int(number) < _INT_RANGES[type_ref]:
        raise ValueError(f"{value!r} cannot be converted to {type_ref}: it is not a whole number in its range")
    return int(number)


def _date(value) -> str:
    """A date stays ISO 8601 text, as process variables hold it (and input entries compare it)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.strip())
            return value.strip()
        except ValueError:
            pass
    raise ValueError(f"{value!r} cannot be converted to date: write it as ISO 8601 text such as 2024-01-31")


def _matches(table: dict, rule: dict, values: dict, variables: dict, evaluate: Evaluate) -> bool:
    for column, test in zip(table["inputs"], rule["tests"], strict=True):
        if test is None:
            continue
        cell = {CELL: values[column["id"]]}
        if column.get("variable"):
            cell[column["variable"]] = values[column["id"]]
        try:
            if not evaluate(test, ChainMap(cell, variables)):
                return False
        except Exception as exc:  # noqa: BLE001
            raise DecisionFailed(f"decision {table['decision_id']!r}, rule {rule['id']!r} (row {rule['row']}), "
                                 f"input {column['label']!r} with the value {values[column['id']]!r}: "
                                 f"{type(exc).__name__}: {exc}") from None
    return True


def _outputs(table: dict, rule: dict, variables: dict, evaluate: Evaluate) -> dict:
    out = {}
    for column, expression in zip(table["outputs"], rule["outputs"], strict=True):
        try:
            out[column["name"]] = None if expression is None else convert(evaluate(expression, variables),
                                                                          column.get("type"))
        except Exception as exc:  # noqa: BLE001
            raise DecisionFailed(f"decision {table['decision_id']!r}, rule {rule['id']!r} (row {rule['row']}), "
                                 f"output {column['label']!r}: {type(exc).__name__}: {exc}") from None
    return out


def _apply_hit_policy(table: dict, results: list[tuple[dict, dict]]) -> list[dict]:
    policy, name = table["hit_policy"], f"decision {table['decision_id']!r}"
    rules = ", ".join(repr(rule["id"]) for rule, _ in results)
    if policy == "UNIQUE":
        if len(results) > 1:
            raise DecisionFailed(f"{name} has hit policy UNIQUE, but rules {rules} all match")
        return [out for _, out in results]
    if policy == "ANY":
        if len({repr(sorted(out.items())) for _, out in results}) > 1:
            raise DecisionFailed(f"{name} has hit policy ANY, but the matching rules {rules} give different outputs")
        return [out for _, out in results[:1]]
    if policy == "FIRST":
        return [out for _, out in results[:1]]
    if policy in ("PRIORITY", "OUTPUT ORDER"):
        ordered = sorted(results, key=lambda pair: _priority(table, pair[1]))  # stable: ties keep rule order
        return [out for _, out in (ordered[:1] if policy == "PRIORITY" else ordered)]
    if policy == "COLLECT" and table.get("aggregation"):
        return [_aggregate(table, [out for _, out in results])]
    return [out for _, out in results]  # COLLECT, RULE ORDER


def _priority(table: dict, out: dict) -> tuple:
    key = []
    for column in table["outputs"]:
        order = column.get("priorities")
        if order:
            value = out.get(column["name"])
            key.append(order.index(value) if value in order else len(order))
    return tuple(key)


def _aggregate(table: dict, outputs: list[dict]) -> dict:
    column = table["outputs"][0]["name"]
    aggregation = table["aggregation"]
    values = [out[column] for out in outputs if out.get(column) is not None]
    if aggregation == "COUNT":
        return {column: len(values)}
    if not values:
        return {column: None}
    if aggregation != "MIN" and aggregation != "MAX" and not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise DecisionFailed(f"decision {table['decision_id']!r} sums its outputs, but not all are numbers: {values!r}")
    try:
        return {column: {"SUM": sum, "MIN": min, "MAX": max}[aggregation](values)}
    except TypeError as exc:
        raise DecisionFailed(f"decision {table['decision_id']!r} cannot take the {aggregation} of {values!r}: "
                             f"{exc}") from None


def map_result(results: list[dict], mapping: str, table: dict):
    """The decision's result as camunda:mapDecisionResult shapes it for the result variable."""
    name = f"decision {table['decision_id']!r}"
    if mapping == "resultList":
        return results
    if mapping == "collectEntries":
        if any(len(out) != 1 for out in results):
            raise DecisionFailed(f"{name} gives several outputs per rule, which collectEntries cannot hold: "
                                 "use resultList")
        return [next(iter(out.values())) for out in results]
    if len(results) > 1:
        raise DecisionFailed(f"{name} gave {len(results)} results, which {mapping} cannot hold: use collectEntries "
                             "or resultList, or a hit policy giving one result")
    if mapping == "singleResult":
        return results[0] if results else None
    if results and len(results[0]) != 1:
        raise DecisionFailed(f"{name} gives {len(results[0])} outputs, which singleEntry cannot hold: use "
                             "singleResult")
    return next(iter(results[0].values())) if results else None


def merged(results: list[dict], table: dict) -> dict:
    """The result as SpiffWorkflow merges it into the variables: one rule's outputs, or each output's list."""
    if table.get("hit_policy") not in ("COLLECT", "RULE ORDER", "OUTPUT ORDER") or table.get("aggregation"):
        return dict(results[0]) if results else {}
    return {column["name"]: [out[column["name"]] for out in results] for column in table["outputs"]}

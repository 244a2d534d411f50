"""Which process variables a process's tasks show as their amount and customer.

A process declares them once, as properties of the process element, as Camunda Modeler
writes them (``camunda:properties``; ``spiffworkflow:properties`` works the same):

    <camunda:property name="inbox.amount" value="total" />
    <camunda:property name="inbox.customer" value="customer.name" />

The value is a variable, or a dotted path into a variable that holds an object. When a
user task opens, the values are copied into the task row's `amount` and `customer`
columns, so inboxes and lists sort and show them without reading the instance's state.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal, InvalidOperation

from lxml import etree

from engine.modeler import ModelError
from engine.spiff import BPMN_NS, CAMUNDA_NS, SPIFF_NS

log = logging.getLogger(__name__)

PREFIX = "inbox."
COLUMNS = ("amount", "customer")
PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
# The amount column holds 16 digits before the point and 4 after.
AMOUNT_LIMIT = Decimal(10) ** 16
AMOUNT_PLACES = Decimal("0.0001")
CUSTOMER_LENGTH = 255


def declared(process: etree._Element) -> dict[str, str]:
    """The columns a process element declares, {"amount": "total", ...}; ModelError names a bad property."""
    columns: dict[str, str] = {}
    for namespace in (CAMUNDA_NS, SPIFF_NS):
        path = f"{{{BPMN_NS}}}extensionElements/{{{namespace}}}properties/{{{namespace}}}property"
        for prop in process.iterfind(path):
            name = prop.get("name") or ""
            if not name.startswith(PREFIX):
                continue
            column, value = name[len(PREFIX):], (prop.get("value") or "").strip()
            if column not in COLUMNS:
                known = ", ".join(PREFIX + c for c in COLUMNS)
                raise ModelError(f"Property {name!r} of process {process.get('id')!r} is unknown: "
                                 f"the inbox columns are {known}", prop)
            if not PATH.fullmatch(value):
                raise ModelError(f"Property {name!r} of process {process.get('id')!r} must name a variable, "
                                 f"or a path into one such as customer.name, not {value!r}", prop)
            columns[column] = value
    return columns


def values(columns: dict[str, str], data: dict) -> dict:
    """The task row's column values from a task's data: {"amount": Decimal | None, "customer": str}."""
    return {
        "amount": _amount(_read(data, columns.get("amount"))),
        "customer": _text(_read(data, columns.get("customer"))),
    }


def _read(data: dict, path: str | None):
    if not path:
        return None
    value = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _amount(value) -> Decimal | None:
    # bool is an int in Python, but True is no amount.
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        log.warning("ignoring amount %r: not a number", value)
        return None
    if not amount.is_finite() or abs(amount) >= AMOUNT_LIMIT:
        log.warning("ignoring amount %r: out of range", value)
        return None
    return amount.quantize(AMOUNT_PLACES)


def _text(value) -> str:
    # An object or a list is no name to show; the process should point at a field inside it.
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return str(value).strip()[:CUSTOMER_LENGTH]

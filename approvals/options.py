"""Choices a form field takes from another system: a read-only connector operation named in the diagram.

A Camunda form field with the property ``options`` (``<camunda:property id="options"
value="crm.list_customers" />``) is a picker; the operation answers ``{"options": [{"id", "name",
...}]}``, and an option's ``value``, when it has one, is what the process variable receives.
"""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from engine import connectors

log = logging.getLogger(__name__)


class OptionsUnavailable(Exception):
    """The list could not be had; the message says why, in the user's words."""


def options_operation(field: dict) -> str:
    """The name of the operation that lists the field's choices, or "" for a field typed by hand."""
    return str((field.get("properties") or {}).get("options") or "")


def load_options(name: str) -> list[dict]:
    """The options the read-only operation `name` lists, each with at least an "id" and a "name"."""
    try:
        operation = connectors.get_operation(name)
    except KeyError:
        operation = None
    # Only operations that change nothing: a page load must never create an order.
    if operation is None or not operation.read_only:
        raise OptionsUnavailable(_("There is no list called “%(name)s”.") % {"name": name})
    try:
        output = operation.func(connectors.Call(name, {}, idempotency_key=f"options:{name}", instance_id=0))
    except connectors.ConnectorError as exc:
        log.warning("options %s: %s", name, exc)
        raise OptionsUnavailable(_("The list could not be loaded: %(error)s") % {"error": exc.message}) from None
    options = (output or {}).get("options")
    if not isinstance(options, list):
        raise OptionsUnavailable(_("The list could not be loaded: %(error)s") % {"error": "no options"})
    return [{**option, "id": str(option["id"]), "name": str(option.get("name") or option["id"])}
            for option in options if isinstance(option, dict) and option.get("id") not in (None, "")]

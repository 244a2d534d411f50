"""The id ledger: every external id an instance touched, and search by any of them.

Which output keys are ids:

* an operation that declares `ledger` (output key → kind) records exactly those keys;
* an operation that declares none records every top-level output key ending in
  `_id` or `_number`, with the kind guessed from the operation's system and the key
  (`shop.create_order` returning `order_id` → kind `shop.order`). An operation opts
  out of the guess by declaring the keys it wants.

Values are scalars (or lists of scalars, recorded one by one); booleans, empty
values and values longer than the column are skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet

from engine import rows as engine_rows
from engine.models import Job, ProcessInstance
from integrations.models import ExternalId

log = logging.getLogger(__name__)

BUSINESS_KEY = "business_key"
ID_SUFFIXES = ("_id", "_number")
# Start variables that are ids of another system (the inbound poller sets them).
START_VARIABLE_KINDS = {"opportunity_id": "crm.opportunity", "opportunity_number": "crm.opportunity"}
MAX_VALUE_LENGTH = 255
MAX_MATCHES = 50


def normalize(value: object) -> str:
    """The form ids are compared in: stripped and upper-cased."""
    return str(value).strip().upper()


def _values(value: object) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else [value]
    values = []
    for item in items:
        # bool is an int; True is never an id.
        if item is None or isinstance(item, bool) or not isinstance(item, (str, int)):
            continue
        text = str(item).strip()
        if text and len(text) <= MAX_VALUE_LENGTH:
            values.append(text)
        elif text:
            log.warning("not recording an id of %d characters in the ledger", len(text))
    return values


def ids_in_output(operation: str, ledger: dict[str, str] | None, output: dict) -> list[tuple[str, str]]:
    """The (kind, value) pairs to record for one call's output (see the module docstring)."""
    if not isinstance(output, dict):
        return []
    if ledger:
        keys = {key: kind for key, kind in ledger.items() if key in output}
    else:
        system = operation.split(".", 1)[0] if "." in operation else operation
        keys = {}
        for key in output:
            for suffix in ID_SUFFIXES:
                if key.endswith(suffix) and len(key) > len(suffix):
                    keys[key] = f"{system}.{key[: -len(suffix)]}"
    return [(kind, value) for key, kind in keys.items() for value in _values(output[key])]


def ids_at_start(instance: ProcessInstance) -> list[tuple[str, str]]:
    """The business key and the known id variables an instance started with."""
    pairs = [(BUSINESS_KEY, value) for value in _values(instance.business_key)]
    variables = instance.variables if isinstance(instance.variables, dict) else {}
    for key, kind in START_VARIABLE_KINDS.items():
        pairs += [(kind, value) for value in _values(variables.get(key))]
    return pairs


def record(instance_id: int, pairs: Iterable[tuple[str, str]], job: Job | None = None) -> None:
    """Write (kind, value) pairs for an instance; ids it already has are left alone."""
    rows = {(kind, value): ExternalId(instance_id=instance_id, kind=kind, value=value,
                                      value_normalized=normalize(value), job=job)
            for kind, value in pairs}
    # One statement: the unique constraint, not a read before, keeps an id recorded once.
    engine_rows.insert(list(rows.values()), ignore_conflicts=True)


@dataclass
class Match:
    """One instance found by a search, with the ledger rows that matched."""

    instance: ProcessInstance
    ids: list[ExternalId] = field(default_factory=list)


def search(q: str, instances: QuerySet[ProcessInstance], limit: int = MAX_MATCHES) -> list[Match]:
    """Instances among `instances` that touched the id (or business key) `q`, newest first.

    Two indexed lookups: the ledger by normalized value, then the visible
    instances by primary key, so the cost does not grow with the ledger.
    """
    key = normalize(q)
    if not key:
        return []
    rows = list(ExternalId.objects.filter(value_normalized=key).order_by("id")[: limit * 20])
    by_instance: dict[int, list[ExternalId]] = {}
    for row in rows:
        by_instance.setdefault(row.instance_id, []).append(row)
    visible = instances.filter(pk__in=list(by_instance)).order_by("-pk")[:limit]
    return [Match(instance, by_instance[instance.pk]) for instance in visible]


def ids_of_instances(instance_ids: list[int]) -> dict[int, dict[str, str]]:
    """The ledger of each instance: kind → its numbers, comma-separated when a kind has several."""
    found: dict[int, dict[str, list[str]]] = {}
    for instance_id, kind, value in ExternalId.objects.filter(instance_id__in=instance_ids).order_by(
            "id").values_list("instance_id", "kind", "value"):
        values = found.setdefault(instance_id, {}).setdefault(kind, [])
        if value not in values:
            values.append(value)
    return {i: {kind: ", ".join(values) for kind, values in kinds.items()} for i, kinds in found.items()}


def instances_with_number(q: str) -> QuerySet:
    """Ids of the instances that touched the number `q` in any system (for a subquery)."""
    return ExternalId.objects.filter(value_normalized=normalize(q)).values("instance_id")


def instance_numbers(instance_ids: list[int], kind: str) -> list[tuple[int, str]]:
    """(instance id, number) of one kind for these instances, oldest first."""
    return list(ExternalId.objects.filter(instance_id__in=instance_ids, kind=kind).order_by("id").values_list(
        "instance_id", "value"))


def instances_with_id(kind: str, value: object) -> list[int]:
    """Ids of the instances that touched `value` as an id of `kind` (e.g. "erp.sale", "SO-12"), oldest first."""
    return list(ExternalId.objects.filter(kind=kind, value_normalized=normalize(value)).order_by(
        "instance_id").values_list("instance_id", flat=True).distinct())

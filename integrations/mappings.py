"""Field mappings between the CRM and the ERP, kept as data.

A mapping file names fields (``customer.code``) and the rule that turns the
CRM's value into the ERP's: a pattern reformat, a split into parts, or a
lookup table. Files are validated when loaded so a bad one fails at deploy time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

MAPPINGS_DIR = Path(__file__).with_name("mappings")
RULE_KEYS = {
    "pattern": {"match", "output"},
    "split": {"match"},
    "map": {"values"},
    "copy": set(),
}


class MappingError(ValueError):
    """A mapping file is malformed, or a value does not fit its field's rule."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Rule:
    field: str
    type: str
    match: re.Pattern | None = None
    expect: str = ""
    output: str = ""
    integers: tuple[str, ...] = ()
    strip: str = ""
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mapping:
    name: str
    version: int
    rules: dict[str, Rule]


def load_mapping(data: dict) -> Mapping:
    """Validate mapping `data` and return it as a `Mapping`; raise `MappingError` naming the bad key."""
    if not isinstance(data, dict):
        raise MappingError("mapping must be a JSON object")
    for key in ("name", "fields"):
        if key not in data:
            raise MappingError(f"mapping: missing key {key!r}", field=key)
    if not isinstance(data["fields"], dict):
        raise MappingError("mapping: 'fields' must be an object", field="fields")
    version = data.get("version", 1)
    if not isinstance(version, int):
        raise MappingError("mapping: 'version' must be an integer", field="version")
    rules = {name: _load_rule(name, spec) for name, spec in data["fields"].items()}
    return Mapping(str(data["name"]), version, rules)


def _load_rule(name: str, spec: Any) -> Rule:
    where = f"fields.{name}"
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: must be an object", field=name)
    kind = spec.get("type")
    if kind not in RULE_KEYS:
        raise MappingError(f"{where}.type: {kind!r} is not one of {sorted(RULE_KEYS)}", field=name)
    for key in sorted(RULE_KEYS[kind] - spec.keys()):
        raise MappingError(f"{where}: missing key {key!r} for a {kind!r} rule", field=name)
    match = None
    if "match" in spec:
        try:
            match = re.compile(spec["match"])
        except (re.error, TypeError) as exc:
            raise MappingError(f"{where}.match: invalid regular expression ({exc})", field=name) from None
    if kind == "pattern":
        unknown = set(re.findall(r"{(\w+)", spec["output"])) - set(match.groupindex)
        if unknown:
            raise MappingError(f"{where}.output: uses groups {sorted(unknown)} that match does not define", field=name)
    if kind == "map" and not (
        isinstance(spec["values"], dict) and all(isinstance(v, str) for v in spec["values"].values())
    ):
        raise MappingError(f"{where}.values: must map strings to strings", field=name)
    return Rule(
        field=name,
        type=kind,
        match=match,
        expect=str(spec.get("expect") or (match.pattern if match else "")),
        output=spec.get("output", ""),
        integers=tuple(spec.get("integers", ())),
        strip=spec.get("strip", ""),
        values=dict(spec.get("values", {})),
    )


def map_value(mapping: Mapping, field: str, value: Any) -> Any:
    """Return `value` of the CRM `field` converted to the ERP's form; raise `MappingError` if it does not fit."""
    try:
        rule = mapping.rules[field]
    except KeyError:
        raise MappingError(f"mapping {mapping.name!r} has no rule for field {field!r}", field=field) from None
    if rule.type == "copy":
        return value
    if rule.type == "map":
        try:
            return rule.values[str(value)]
        except KeyError:
            raise MappingError(
                f"field {field!r}: value {value!r} is not one of {sorted(rule.values)}", field=field
            ) from None
    found = rule.match.fullmatch(str(value).strip()) if value is not None else None
    if found is None:
        raise MappingError(f"field {field!r}: value {value!r} does not match {rule.expect}", field=field)
    groups = {k: (v or "") for k, v in found.groupdict().items()}
    if rule.type == "split":
        return {k: "".join(c for c in v if c not in rule.strip) for k, v in groups.items()}
    for key in rule.integers:
        # Codes drop their zero padding on the ERP side (C-000123 -> CUST123).
        groups[key] = int(groups[key])
    return rule.output.format(**groups)


def map_values(mapping: Mapping, prefix: str, record: dict) -> dict:
    """Return `record` with every key that has a ``<prefix>.<key>`` rule converted."""
    return {
        key: map_value(mapping, f"{prefix}.{key}", value) if f"{prefix}.{key}" in mapping.rules else value
        for key, value in record.items()
    }


def mapping_for(data: dict | None) -> Mapping:
    """The mapping deployed with a process version (`Call.mappings`), or the shipped default without one."""
    if not data:
        return default_mapping()
    return _loaded(json.dumps(data, sort_keys=True))


@lru_cache(maxsize=64)
def _loaded(text: str) -> Mapping:
    return load_mapping(json.loads(text))


@cache
def default_mapping(name: str = "quote_to_cash") -> Mapping:
    """Return the mapping shipped in ``integrations/mappings/<name>.json``, loaded once."""
    path = MAPPINGS_DIR / f"{name}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MappingError(f"mapping file {path.name}: {exc}") from None
    return load_mapping(data)

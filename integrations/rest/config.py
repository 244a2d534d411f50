"""Reading and checking a REST connector's configuration.

A configuration is plain data (a dict, usually loaded from JSON):

    {
      "headers": {"Authorization": "Bearer ${SHOP_TOKEN}"},       # defaults for every operation
      "timeout": 10,
      "operations": [{
        "name": "shop.create_order",
        "method": "POST",
        "url": "${SHOP_URL}/customers/{customer.code}/orders",
        "body": {"reference": "quote_id", "currency": {"literal": "EUR"}, "lines": "lines"},
        "result": {"order_id": "data.id", "order_number": "data.number"},
        "errors": {"422": {"code": "SHOP_REJECTED"}, "409": {"code": "SHOP_DUPLICATE"}},
        "ledger": {"order_id": "shop.order"}
      }]
    }

`${NAME}` is read from the environment (secrets and addresses never live in the
config); `{path}` in a URL is a value from the call's input, quoted as one path
segment. In `body`, a string is an input path, `{"literal": x}` is the value x,
a number/boolean/null is itself and any other object is a nested body.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
OPERATION_FIELDS = {"name", "method", "url", "headers", "body", "result", "errors", "timeout", "ledger", "description"}
TOP_FIELDS = {"operations", "headers", "timeout"}
ERROR_FIELDS = {"code", "message", "retryable"}
DEFAULT_TIMEOUT = 10.0
# ${NAME} from the environment, {input.path} from the call's input.
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\{([A-Za-z_][\w.]*)\}")
ENV_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class ErrorRule:
    """What an HTTP status means for the process: a business error code, or try again."""

    code: str
    message: str = ""  # path of the message in the response's JSON; empty: guess
    retryable: bool = False


@dataclass(frozen=True)
class RestOperation:
    """One checked operation of a REST connector."""

    name: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    result: dict[str, str] | None = None
    errors: dict[int, ErrorRule] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    ledger: dict[str, str] = field(default_factory=dict)
    description: str = ""


def expand_env(text: str, where: str) -> str:
    """`text` with each ${NAME} replaced from the environment; ValueError naming a missing one."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ValueError(f"{where}: environment variable {name} is not set")
        return os.environ[name]

    return ENV_VARIABLE.sub(value, text)


def parse_config(config: dict) -> list[RestOperation]:
    """Check a whole configuration and return its operations; ValueError names the operation and field."""
    if not isinstance(config, dict):
        raise ValueError(f"REST connector: the configuration must be an object, not {type(config).__name__}")
    unknown = set(config) - TOP_FIELDS
    if unknown:
        raise ValueError(f"REST connector: unknown field {sorted(unknown)[0]!r}")
    operations = config.get("operations")
    if not isinstance(operations, list) or not operations:
        raise ValueError("REST connector: operations: give a non-empty list of operations")
    defaults = {key: config[key] for key in ("headers", "timeout") if key in config}
    parsed = []
    for position, raw in enumerate(operations, start=1):
        operation = parse_operation(raw, defaults, position)
        if any(other.name == operation.name for other in parsed):
            raise ValueError(f"REST operation {operation.name!r}: name: defined twice")
        parsed.append(operation)
    return parsed


def parse_operation(raw: Any, defaults: dict, position: int = 1) -> RestOperation:
    """Check one operation (with the connector's default headers and timeout) and return it."""
    label = f"REST operation #{position}"
    if not isinstance(raw, dict):
        raise ValueError(f"{label}: must be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{label}: name: required, a string like 'shop.create_order'")
    label = f"REST operation {name!r}"

    def fail(field_name: str, problem: str):
        raise ValueError(f"{label}: {field_name}: {problem}")

    unknown = set(raw) - OPERATION_FIELDS
    if unknown:
        fail(sorted(unknown)[0], "unknown field")
    method = raw.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        fail("method", f"must be one of {', '.join(METHODS)}")
    url = raw.get("url")
    if not isinstance(url, str) or not (url.startswith(("http://", "https://", "${"))):
        fail("url", "required, starting with http://, https:// or ${VARIABLE}")
    headers = {**_strings(defaults.get("headers", {}), "headers", fail), **_strings(raw.get("headers", {}),
                                                                                    "headers", fail)}
    body = raw.get("body")
    if body is not None:
        if not isinstance(body, dict):
            fail("body", "must be an object mapping body keys to input paths or literals")
        _check_body(body, "body", fail)
    result = raw.get("result")
    if result is not None:
        _strings(result, "result", fail)
    timeout = raw.get("timeout", defaults.get("timeout", DEFAULT_TIMEOUT))
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        fail("timeout", "must be a positive number of seconds")
    operation = RestOperation(
        name=name, method=method.upper(), url=url, headers=headers, body=body, result=result,
        errors=_errors(raw.get("errors", {}), fail), timeout=float(timeout),
        ledger=_strings(raw.get("ledger", {}), "ledger", fail), description=str(raw.get("description", "")),
    )
    # Every ${VARIABLE} must be set now, not at the first call hours later.
    for text, field_name in [(url, "url"), *((v, f"headers.{k}") for k, v in headers.items())]:
        expand_env(text, f"{label}: {field_name}")
    return operation


def _strings(value: Any, field_name: str, fail) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        fail(field_name, "must be an object of strings")
    return dict(value)


def _check_body(body: dict, where: str, fail) -> None:
    for key, value in body.items():
        if isinstance(value, dict) and set(value) != {"literal"}:
            _check_body(value, f"{where}.{key}", fail)
        elif isinstance(value, list):
            fail(f"{where}.{key}", "a list must be given as {\"literal\": [...]} or as an input path")
        elif isinstance(value, str) and not value:
            fail(f"{where}.{key}", "empty input path")


def _errors(value: Any, fail) -> dict[int, ErrorRule]:
    if not isinstance(value, dict):
        fail("errors", "must map HTTP statuses to {\"code\": ...}")
    rules = {}
    for status, rule in value.items():
        where = f"errors.{status}"
        if not str(status).isdigit() or not 400 <= int(status) <= 599:
            fail(where, "the key must be an HTTP error status (400-599)")
        if not isinstance(rule, dict) or not isinstance(rule.get("code"), str) or not rule["code"]:
            fail(where, "must be an object with a non-empty 'code'")
        if set(rule) - ERROR_FIELDS:
            fail(f"{where}.{sorted(set(rule) - ERROR_FIELDS)[0]}", "unknown field")
        rules[int(status)] = ErrorRule(code=rule["code"], message=str(rule.get("message", "")),
                                       retryable=bool(rule.get("retryable", False)))
    return rules

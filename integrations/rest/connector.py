"""Calling a REST operation: build the request from the call, send it, read the answer.

HTTP outcomes become the engine's vocabulary: a mapped error status is a
BusinessError with the configured code; 5xx, 429, timeouts and refused
connections are RetryableError; any other 4xx is BusinessError `HTTP_<status>`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from engine.connectors import BusinessError, Call, RetryableError
from integrations.rest.config import PLACEHOLDER, RestOperation, expand_env

_MISSING = object()


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path ("customer.code", "items.0.id") in `data`, or _MISSING."""
    if path == "":
        return data
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.lstrip("-").isdigit() and -len(data) <= int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def _from_input(call: Call, path: str) -> Any:
    value = lookup(call.input, path)
    if value is _MISSING:
        raise BusinessError(f"{call.operation}: missing input {path}", code="MISSING_INPUT")
    return value


def build_url(operation: RestOperation, call: Call) -> str:
    """The operation's URL with ${VARIABLES} from the environment and {input.paths} quoted from the input."""

    def value(match) -> str:
        if match.group(1):
            return expand_env(match.group(0), f"REST operation {operation.name!r}: url")
        return quote(str(_from_input(call, match.group(2))), safe="")

    return PLACEHOLDER.sub(value, operation.url)


def build_body(mapping: dict, call: Call) -> dict:
    """The JSON body: each key's value taken from the input path or literal it is mapped to."""
    body = {}
    for key, source in mapping.items():
        if isinstance(source, dict) and set(source) == {"literal"}:
            body[key] = source["literal"]
        elif isinstance(source, dict):
            body[key] = build_body(source, call)
        elif isinstance(source, str):
            body[key] = _from_input(call, source)
        else:
            body[key] = source
    return body


def call_operation(operation: RestOperation, call: Call) -> dict:
    """Send the request for one call and return the output the result mapping extracts."""
    where = f"REST operation {operation.name!r}"
    try:
        headers = {name: expand_env(value, f"{where}: headers.{name}") for name, value in operation.headers.items()}
        url = build_url(operation, call)
    except ValueError as exc:
        # A variable removed since the config was loaded: retrying will not bring it back.
        raise BusinessError(str(exc), code="CONFIG_ERROR") from None
    headers["Idempotency-Key"] = call.idempotency_key
    headers.setdefault("Accept", "application/json")
    body = build_body(operation.body, call) if operation.body is not None else None
    try:
        response = requests.request(operation.method, url, headers=headers, json=body, timeout=operation.timeout)
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise RetryableError(f"{where}: {type(exc).__name__} calling {url}: {exc}") from None
    except requests.RequestException as exc:
        raise BusinessError(f"{where}: cannot call {url}: {exc}", code="REQUEST_FAILED") from None
    payload = _json(response)
    if response.status_code >= 400:
        raise _error(operation, response, payload)
    return _output(operation, payload, response)


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:  # requests' JSONDecodeError is one
        return _MISSING


def _message(payload: Any, response: requests.Response, path: str) -> str:
    if path:
        found = lookup(payload, path)
        if isinstance(found, str) and found:
            return found
    if isinstance(payload, dict):
        for key in ("message", "error", "detail", "error.message"):
            found = lookup(payload, key)
            if isinstance(found, str) and found:
                return found
    return response.text[:500] or response.reason or ""


def _error(operation: RestOperation, response: requests.Response, payload: Any) -> Exception:
    status = response.status_code
    rule = operation.errors.get(status)
    message = f"{operation.name}: HTTP {status}: {_message(payload, response, rule.message if rule else '')}"
    details = {"status": status, "body": payload if payload is not _MISSING else response.text[:2000]}
    if rule is not None:
        error_class = RetryableError if rule.retryable else BusinessError
        return error_class(message, code=rule.code, details=details)
    if status >= 500 or status == 429:
        return RetryableError(message, code=f"HTTP_{status}", details=details)
    return BusinessError(message, code=f"HTTP_{status}", details=details)


def _output(operation: RestOperation, payload: Any, response: requests.Response) -> dict:
    if operation.result is None:
        return payload if isinstance(payload, dict) else {}
    if payload is _MISSING or payload is None:
        raise BusinessError(f"{operation.name}: HTTP {response.status_code} answered without a JSON body",
                            code="UNEXPECTED_RESPONSE", details={"body": response.text[:2000]})
    output = {}
    for key, path in operation.result.items():
        value = lookup(payload, path)
        if value is _MISSING:
            raise BusinessError(f"{operation.name}: the response has no {path!r}", code="UNEXPECTED_RESPONSE",
                                details={"body": payload})
        output[key] = value
    return output

"""The registry of connector operations that service tasks call.

`engine` does not know any external system: other apps register operations by
name (``erp.create_sales_order``) and the job runner looks them up here.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


class ConnectorError(Exception):
    """An operation failed; `retryable` says whether trying again may help."""

    retryable = True

    def __init__(self, message: str, *, code: str | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details


class RetryableError(ConnectorError):
    """The system could not be reached or was busy (refused, timeout, 5xx, lock)."""

    retryable = True


class BusinessError(ConnectorError):
    """The system answered and said no (missing address, unknown product).

    `code` is matched against the BPMN error codes the service task maps; an
    unmapped business error becomes an incident without retries.
    """

    retryable = False


@dataclass
class Call:
    """One invocation of an operation by a service task."""

    operation: str
    input: dict
    idempotency_key: str
    instance_id: int
    business_key: str = ""
    element_id: str = ""
    # The field mappings deployed with the instance's process version.
    mappings: dict = field(default_factory=dict)


@dataclass
class Operation:
    name: str
    func: Callable[[Call], dict]
    description: str = ""
    # Names of the input keys the operation requires; checked before the call.
    required: tuple[str, ...] = ()
    # Output keys whose values are external ids to record in the id ledger,
    # mapped to the kind of id ("erp.sale", "crm.opportunity").
    ledger: dict[str, str] = field(default_factory=dict)
    # Changes nothing in the external system: forms may call it to fill a picker.
    read_only: bool = False


_operations: dict[str, Operation] = {}


def register(
    name: str,
    func: Callable[[Call], dict] | None = None,
    *,
    description: str = "",
    required: tuple[str, ...] = (),
    ledger: dict[str, str] | None = None,
    read_only: bool = False,
):
    """Register `func` as the operation `name`; usable as a decorator."""

    def add(f: Callable[[Call], dict]) -> Callable[[Call], dict]:
        _operations[name] = Operation(name, f, description or (f.__doc__ or "").strip(), required, ledger or {},
                                     read_only)
        return f

    return add(func) if func is not None else add


def unregister(name: str) -> None:
    """Remove an operation (tests replace operations this way)."""
    _operations.pop(name, None)


class NoAnswerGiven(ConnectorError):
    """A process test case called an operation it gives no answer for."""

    retryable = False


_stubs = threading.local()


@contextmanager
def stubbed(answers: dict[str, Any]):
    """Answer every operation from `answers` in this thread (process test cases): nothing real is called.

    An answer is the operation's output, or {"error": code[, "message": text]} for a business error.
    """
    _stubs.answers = answers
    try:
        yield
    finally:
        _stubs.answers = None


def _stub(name: str, answers: dict[str, Any]) -> Operation:
    real = _operations.get(name)

    def answer(call: Call) -> dict:
        if name not in answers:
            raise NoAnswerGiven(f"the case gives no answer for the operation {name!r}")
        given = answers[name]
        if isinstance(given, dict) and set(given) <= {"error", "message"} and "error" in given:
            raise BusinessError(given.get("message") or f"{name}: {given['error']}", code=str(given["error"]))
        return copy.deepcopy(given) if isinstance(given, dict) else {"result": given}

    # The real operation's required inputs still apply: a case catches a mapping that leaves one out.
    return Operation(name, answer, required=real.required if real else (), ledger=real.ledger if real else {})


def get_operation(name: str) -> Operation:
    """Return the registered operation or raise KeyError naming it."""
    answers = getattr(_stubs, "answers", None)
    if answers is not None:
        return _stub(name, answers)
    try:
        return _operations[name]
    except KeyError:
        raise KeyError(f"No connector operation named {name!r} is registered") from None


def operation_names() -> list[str]:
    """Names of every registered operation, sorted."""
    return sorted(_operations)

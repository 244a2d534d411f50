"""The script engine SpiffWorkflow evaluates script tasks, conditions and expressions with.

Every script is compiled under the rules of ``engine.restricted`` (no imports, no
names or attributes starting with ``_``, small builtins) and runs in a worker
process of ``engine.sandbox`` with memory, CPU and size limits and a deadline.
Only the variables a script names cross over to the worker, as plain data, and
only the ones it names come back.

The exception: an expression that only reads and compares variables
(``decision == "approve"``, ``sale["sale_id"]``; see ``restricted.is_bounded``)
cannot run long or build anything large, and most conditions and service
parameters are such; it is evaluated here, saving the round trip to a worker.
"""

from __future__ import annotations

import builtins
import json

from django.conf import settings
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.restricted import RESTRICTED_GLOBALS, ScriptRejected, check_script, compile_script, is_bounded
from engine.sandbox import POOL, ScriptLimitExceeded, ScriptTimeout, ScriptWorkerFailed
from engine.sandbox_worker import LimitReached, dump

__all__ = ["SCRIPT_ENGINE", "ScriptLimitExceeded", "ScriptRejected", "ScriptTimeout", "ScriptWorkerFailed",
           "check_script"]


class ScriptError(Exception):
    """A script raised an exception that is not one of Python's own."""


def _visible(names: frozenset, context: dict, external_context: dict | None) -> dict:
    """The variables among `names`: task data first, then the external context (data objects)."""
    visible = {}
    for name in names:
        if name in context:
            visible[name] = context[name]
        elif external_context and name in external_context:
            visible[name] = external_context[name]
    return visible


def _run(source: str, mode: str, context: dict, external_context: dict | None) -> dict:
    # Compiled here too (cached), so a rejected script is refused without a round trip.
    _, names = compile_script(source, mode)
    answer = POOL.run({"mode": mode, "source": source, "variables": _visible(names, context, external_context)})
    if "limit" in answer:
        if answer["limit"] == "memory":
            raise ScriptLimitExceeded(f"the script used more than {settings.LANEBRIDGE['SCRIPT_MEMORY_MB']} MB "
                                      "of memory (LANEBRIDGE_SCRIPT_MEMORY_MB)")
        raise ScriptLimitExceeded(answer["message"])
    if "error" in answer:
        raise _error(answer)
    return answer


def _evaluate_here(expression: str, context: dict, external_context: dict | None):
    """The value of a bounded expression, evaluated in this process, as plain data like a worker's answer."""
    code, names = compile_script(expression, "eval")
    namespace = dict(RESTRICTED_GLOBALS)
    namespace.update(_visible(names, context, external_context))
    value = eval(code, namespace)
    if value is None or isinstance(value, bool):
        return value  # most conditions: nothing to convert or measure
    try:
        return json.loads(dump("the expression's value", value, settings.LANEBRIDGE["MAX_VALUE_BYTES"]))
    except LimitReached as exc:
        raise ScriptLimitExceeded(str(exc)) from None


def _error(answer: dict) -> Exception:
    """The script's exception, as the same built-in type when it is one, with its line."""
    message = answer["message"]
    if answer["error"] == "ScriptRejected":
        return ScriptRejected(message)
    if answer.get("line"):
        message = f"{message} (line {answer['line']})"
    kind = getattr(builtins, answer["error"], None)
    if isinstance(kind, type) and issubclass(kind, Exception) and kind is not SyntaxError:
        try:
            return kind(message)
        except Exception:  # noqa: BLE001 - a type whose constructor wants more than a message
            pass
    return ScriptError(f"{answer['error']}: {message}")


def _stored_size(value) -> int:
    return len(json.dumps(value, default=str))


class RestrictedEnvironment(TaskDataEnvironment):
    """Task-data environment that runs every script in the sandbox's worker pool."""

    def evaluate(self, expression, context, external_context=None):
        if is_bounded(expression):
            return _evaluate_here(expression, context, external_context)
        return _run(expression, "eval", context, external_context)["value"]

    def execute(self, script, context, external_context=None):
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        answer = _run(script, "exec", context, external_context)
        values, deleted = answer["values"], answer["deleted"]
        # The worker checked each value; the instance's total needs the variables it was not sent.
        limit = settings.LANEBRIDGE["MAX_INSTANCE_BYTES"]
        total = sum(answer["sizes"].values()) + sum(
            _stored_size(value) for key, value in context.items() if key not in values and key not in deleted)
        if total > limit:
            raise ScriptLimitExceeded(f"the variables would come to {total} bytes, more than the limit of {limit} "
                                      "bytes per instance (LANEBRIDGE_MAX_INSTANCE_BYTES)")
        for key, value in values.items():
            if key not in external_context:
                context[key] = value
        for key in deleted:
            context.pop(key, None)
        return True


class RestrictedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine over the restricted environment."""

    def __init__(self):
        super().__init__(environment=RestrictedEnvironment())

    def validate(self, expression: str) -> None:
        """Raise ScriptRejected/SyntaxError when `expression` would not compile."""
        compile_script(expression, "exec")

    def evaluate(self, task, expression, external_context=None):
        """The value of `expression` over the task's data; a failure names its cause (limit, error)."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as exc:
            # SpiffWorkflow's own message leaves the cause out: the incident would not say which limit.
            raise WorkflowTaskException(f"Error evaluating expression '{expression}': {type(exc).__name__}: {exc}",
                                        task=task, exception=exc) from exc


SCRIPT_ENGINE = RestrictedScriptEngine()

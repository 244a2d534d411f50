"""The restricted evaluator for script tasks, conditions and expressions.

SpiffWorkflow's default engine runs plain ``exec``/``eval`` with full builtins,
and RestrictedPython's ``safe_globals`` alone still lets a dunder walk reach
``os``. Here every script is compiled with ``compile_restricted`` (no imports,
no names or attributes starting with ``_``), runs with a small set of builtins,
and is stopped when it runs longer than the configured time.
"""

from __future__ import annotations

import ast
import sys
import time
from functools import lru_cache

from django.conf import settings
from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

EXTRA_BUILTINS = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in (
        "sum", "min", "max", "all", "any", "enumerate", "dict", "list", "set", "map", "filter", "reversed", "sorted",
    )
}


SCRIPT_FILE = "<bpmn>"


class ScriptTimeout(Exception):
    """A script ran longer than LANEBRIDGE['SCRIPT_TIMEOUT_SECONDS']."""


class ScriptRejected(Exception):
    """A script uses something the restricted evaluator does not allow."""


def _builtins() -> dict:
    builtins = dict(safe_builtins)
    builtins.update(EXTRA_BUILTINS)
    return builtins


RESTRICTED_GLOBALS = {
    "__builtins__": _builtins(),
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_write_": full_write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": lambda op, x, y: _INPLACE[op](x, y),
}

_INPLACE = {
    "+=": lambda x, y: x + y,
    "-=": lambda x, y: x - y,
    "*=": lambda x, y: x * y,
    "/=": lambda x, y: x / y,
    "//=": lambda x, y: x // y,
    "%=": lambda x, y: x % y,
}


@lru_cache(maxsize=2048)
def _compile(source: str, mode: str):
    # RestrictedPython accepts import statements and fails them only at run
    # time; refusing them here lets a deploy name the element instead.
    for node in ast.walk(ast.parse(source, mode=mode)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise ScriptRejected(f"Line {node.lineno}: imports are not allowed in scripts")
    result = (compile_restricted_eval if mode == "eval" else compile_restricted_exec)(source, SCRIPT_FILE)
    if result.errors:
        raise ScriptRejected("; ".join(result.errors))
    return result.code


def _run_bounded(code, namespace: dict, mode: str):
    """Run code with a deadline checked on every bytecode of the script's own frames."""
    limit = settings.LANEBRIDGE["SCRIPT_TIMEOUT_SECONDS"]
    deadline = time.monotonic() + limit

    def check(frame, event, arg):
        if time.monotonic() > deadline:
            raise ScriptTimeout(f"script ran longer than {limit} s")
        return check

    def on_call(frame, event, arg):
        if frame.f_code.co_filename != SCRIPT_FILE:
            return None  # library code called by the script is not traced
        # Opcode events, not only line events: `while True: pass` is one line.
        frame.f_trace_opcodes = True
        return check

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        return eval(code, namespace) if mode == "eval" else exec(code, namespace)
    finally:
        sys.settrace(previous)


class RestrictedEnvironment(TaskDataEnvironment):
    """Task-data environment that compiles every script with RestrictedPython."""

    def evaluate(self, expression, context, external_context=None):
        namespace = dict(RESTRICTED_GLOBALS)
        namespace.update(external_context or {})
        namespace.update(context)
        return _run_bounded(_compile(expression, "eval"), namespace, "eval")

    def execute(self, script, context, external_context=None):
        self.check_for_overwrite(context, external_context or {})
        namespace = dict(RESTRICTED_GLOBALS)
        namespace.update(external_context or {})
        namespace.update(context)
        _run_bounded(_compile(script, "exec"), namespace, "exec")
        # Only plain data goes back into task data.
        for key, value in namespace.items():
            if key.startswith("_") or key in RESTRICTED_GLOBALS or callable(value):
                continue
            if external_context and key in external_context:
                continue
            context[key] = value
        for key in [k for k in context if k not in namespace]:
            context.pop(key)
        return True


class RestrictedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine over the restricted environment."""

    def __init__(self):
        super().__init__(environment=RestrictedEnvironment())

    def validate(self, expression: str) -> None:
        """Raise ScriptRejected/SyntaxError when `expression` would not compile."""
        _compile(expression, "exec")


def check_script(source: str, mode: str = "exec") -> str | None:
    """Return an error message if `source` would be rejected, else None."""
    try:
        _compile(source, mode)
    except (ScriptRejected, SyntaxError) as exc:
        return str(exc)
    return None


SCRIPT_ENGINE = RestrictedScriptEngine()

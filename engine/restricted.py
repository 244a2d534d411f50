"""The rules every script and expression is compiled under: RestrictedPython, no imports, small builtins.

SpiffWorkflow's default engine runs plain ``exec``/``eval`` with full builtins,
and RestrictedPython's ``safe_globals`` alone still lets a dunder walk reach
``os``. Here every script is compiled with ``compile_restricted`` (no imports,
no names or attributes starting with ``_``) and runs with a small set of
builtins. This module imports neither Django nor SpiffWorkflow: the script
worker process (``engine.sandbox_worker``) uses it, and so does deploy.
"""

from __future__ import annotations

import ast
import builtins
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr,
)

EXTRA_BUILTINS = {
    name: getattr(builtins, name)
    for name in (
        "sum", "min", "max", "all", "any", "enumerate", "dict", "list", "set", "map", "filter", "reversed", "sorted",
    )
}

SCRIPT_FILE = "<bpmn>"


class ScriptRejected(Exception):
    """A script uses something the restricted evaluator does not allow."""


_INPLACE = {
    "+=": lambda x, y: x + y,
    "-=": lambda x, y: x - y,
    "*=": lambda x, y: x * y,
    "/=": lambda x, y: x / y,
    "//=": lambda x, y: x // y,
    "%=": lambda x, y: x % y,
}

RESTRICTED_GLOBALS = {
    "__builtins__": {**safe_builtins, **EXTRA_BUILTINS},
    "_getattr_": safer_getattr,
    "_getitem_": default_guarded_getitem,
    "_getiter_": default_guarded_getiter,
    "_write_": full_write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": lambda op, x, y: _INPLACE[op](x, y),
}


@lru_cache(maxsize=2048)
def compile_script(source: str, mode: str) -> tuple:
    """Return (code, names) for `source` ("exec" or "eval"), or raise ScriptRejected/SyntaxError.

    `names` are every plain name the source mentions: a restricted script has no
    `globals()` or `vars()`, so these are the only variables it can read or change.
    """
    # RestrictedPython accepts import statements and fails them only at run
    # time; refusing them here lets a deploy name the element instead.
    names = set()
    for node in ast.walk(ast.parse(source, mode=mode)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            raise ScriptRejected(f"Line {node.lineno}: imports are not allowed in scripts")
        if isinstance(node, ast.Name):
            names.add(node.id)
    result = (compile_restricted_eval if mode == "eval" else compile_restricted_exec)(source, SCRIPT_FILE)
    if result.errors:
        raise ScriptRejected("; ".join(result.errors))
    return result.code, frozenset(n for n in names if not n.startswith("_"))


# An expression made of these only reads variables, compares them and combines the answers: no calls, no loops,
# no arithmetic that could build a huge number or text. Its time and memory are bounded by the data's size.
BOUNDED_NODES = (
    ast.Expression, ast.Name, ast.Load, ast.Constant, ast.Subscript, ast.Slice, ast.Compare, ast.Eq, ast.NotEq,
    ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not,
    ast.USub, ast.UAdd, ast.IfExp,
)
# Bounds the repeats of even those: `a == a == a ...` compares the data once per term.
MAX_BOUNDED_NODES = 32


@lru_cache(maxsize=2048)
def is_bounded(source: str) -> bool:
    """True if the expression `source` only reads, compares and combines variables (see BOUNDED_NODES)."""
    try:
        nodes = list(ast.walk(ast.parse(source, mode="eval")))
    except SyntaxError:
        return False
    return len(nodes) <= MAX_BOUNDED_NODES and all(isinstance(node, BOUNDED_NODES) for node in nodes)


def check_script(source: str, mode: str = "exec") -> str | None:
    """Return an error message if `source` would be rejected, else None."""
    try:
        compile_script(source, mode)
    except (ScriptRejected, SyntaxError) as exc:
        return str(exc)
    return None

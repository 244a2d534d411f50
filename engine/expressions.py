"""Camunda 7 (JUEL ``${…}``) and Camunda 8 (FEEL ``=…``) expressions, translated at deploy into Python.

Models drawn for Camunda carry their conditions in these languages. The subset
models really use — comparisons, ``&&``/``||``/``!``/``and``/``or``/``not``,
``empty``, ``eq``/``ne``/``lt``/``gt``/``le``/``ge``, literals, variables,
property and index access, arithmetic and ``a ? b : c`` — becomes the same
expression in the restricted Python every Lanebridge expression is. Anything
else (method and function calls, FEEL's ``some … satisfies``, text with
several ``${…}`` in it) raises ExpressionError saying what it is.

Property access ``order.total`` reads the key ``total`` of the variable
``order`` (process variables are JSON), so it becomes ``order['total']``.
"""

from __future__ import annotations

import keyword
import re

JUEL, FEEL = "JUEL", "FEEL"

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\].?:+\-*/%=,])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
""", re.VERBOSE)

# Words that are operators or literals in each language, with their Python spelling.
_WORD_OPERATORS = {
    JUEL: {"and": "and", "or": "or", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=",
           "div": "/", "mod": "%"},
    FEEL: {"and": "and", "or": "or"},
}
_SYMBOL_OPERATORS = {
    JUEL: {"&&": "and", "||": "or", "==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
           "+": "+", "-": "-", "*": "*", "/": "/", "%": "%"},
    FEEL: {"=": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
           "+": "+", "-": "-", "*": "*", "/": "/"},
}
_LITERALS = {"true": "True", "false": "False", "null": "None"}
# Binary operators from loosest to tightest binding.
_LEVELS = [("or",), ("and",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%")]
# FEEL words that start constructs outside the subset; named in the refusal.
_FEEL_CONSTRUCTS = {"some", "every", "satisfies", "for", "if", "then", "else", "in", "between", "instance",
                    "function", "return"}


class ExpressionError(ValueError):
    """The expression is outside the translated subset; the message says what is."""


def language(source: str) -> str | None:
    """JUEL, FEEL, or None for an expression already written in Python."""
    text = source.strip()
    if text.startswith(("${", "#{")) or "${" in text or "#{" in text:
        return JUEL
    if text.startswith("="):
        return FEEL
    return None


def translate(source: str) -> str:
    """The Python expression meaning the same as `source`; Python is returned unchanged."""
    lang = language(source)
    if lang is None:
        return source
    text = source.strip()
    if lang == JUEL:
        if not text.startswith(("${", "#{")) or not text.endswith("}") or "${" in text[2:] or "#{" in text[2:]:
            raise ExpressionError("only one ${…} making up the whole expression can be translated, not text "
                                  "around it or several of them")
        body = text[2:-1]
    else:
        body = text[1:]
    if not body.strip():
        raise ExpressionError("the expression is empty")
    return _Parser(body, lang).parse()


def _tokens(body: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(body):
        match = _TOKEN.match(body, position)
        if match is None:
            raise ExpressionError(f"{body[position:position + 10]!r} is not part of the translated subset")
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the tokens, writing Python as it goes; every operation is parenthesized."""

    def __init__(self, body: str, lang: str):
        self.tokens = _tokens(body)
        self.lang = lang
        self.position = 0

    def parse(self) -> str:
        result = self.ternary()
        if self.position < len(self.tokens):
            raise ExpressionError(f"{self.tokens[self.position][1]!r} is not expected here")
        return result

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        self.position += 1
        return token

    def expect(self, text: str) -> None:
        kind, value = self.take()
        if value != text:
            raise ExpressionError(f"expected {text!r}, found {value!r}")

    def operator(self) -> str | None:
        """The Python spelling of the binary operator at the current token, if it is one."""
        token = self.peek()
        if token is None:
            return None
        kind, value = token
        if kind == "op":
            return _SYMBOL_OPERATORS[self.lang].get(value)
        if kind == "name":
            return _WORD_OPERATORS[self.lang].get(value)
        return None

    def ternary(self) -> str:
        condition = self.binary(0)
        if self.lang == JUEL and self.peek() == ("op", "?"):
            self.take()
            then = self.ternary()
            self.expect(":")
            otherwise = self.ternary()
            return f"({then} if {condition} else {otherwise})"
        return condition

    def binary(self, level: int) -> str:
        if level == len(_LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.operator() in _LEVELS[level]:
            python = self.operator()
            self.take()
            right = self.binary(level + 1)
            left = f"({left} {python} {right})"
        return left

    def unary(self) -> str:
        kind, value = self.peek() or ("", "")
        if self.lang == JUEL and value in ("!", "not"):
            self.take()
            return f"(not {self.unary()})"
        if self.lang == JUEL and value == "empty":
            self.take()
            operand = self.unary()
            # JUEL's empty: null, "" or an empty list or map; 0 and false are not empty.
            return f"((not {operand}) and {operand} != 0)"
        if value == "-":
            self.take()
            return f"(-{self.unary()})"
        return self.postfix()

    def postfix(self) -> str:
        result = self.primary()
        while True:
            token = self.peek()
            if token == ("op", "."):
                self.take()
                kind, name = self.take()
                if kind != "name":
                    raise ExpressionError(f"expected a property name after '.', found {name!r}")
                if self.peek() == ("op", "("):
                    raise ExpressionError(f"method calls such as .{name}(…) are not translated")
                result = f"{result}[{name!r}]"
            elif token == ("op", "["):
                self.take()
                index = self.ternary()
                self.expect("]")
                if self.lang == FEEL:
                    # FEEL counts list items from 1, and reads [condition] as a filter.
                    if not re.fullmatch(r"-?\d+", index.strip("()")):
                        raise ExpressionError("only a whole number can index a FEEL list, not a filter")
                    number = int(index.strip("()"))
                    index = str(number - 1 if number > 0 else number)
                result = f"{result}[{index}]"
            else:
                return result

    def primary(self) -> str:
        kind, value = self.take()
        if kind == "number":
            return value
        if kind == "string":
            return repr(_unquote(value))
        if value == "(":
            inner = self.ternary()
            self.expect(")")
            return inner
        if kind != "name":
            raise ExpressionError(f"{value!r} is not expected here")
        if value in _LITERALS:
            return _LITERALS[value]
        if self.lang == FEEL and value == "not" and self.peek() == ("op", "("):
            self.take()
            inner = self.ternary()
            self.expect(")")
            return f"(not {inner})"
        if self.lang == FEEL and value in _FEEL_CONSTRUCTS:
            raise ExpressionError(f"FEEL's {value!r} is not translated")
        if self.peek() == ("op", "("):
            raise ExpressionError(f"function calls such as {value}(…) are not translated")
        if value in _WORD_OPERATORS[self.lang] or value in ("not", "empty", "instanceof"):
            raise ExpressionError(f"{value!r} is not expected here")
        if keyword.iskeyword(value) or value.startswith("_"):
            raise ExpressionError(f"a variable named {value!r} cannot be read from Python")
        return value


def _unquote(literal: str) -> str:
    """The text of a quoted string literal, its backslash escapes resolved."""
    return re.sub(r"\\(.)", r"\1", literal[1:-1])

"""Camunda 7 (JUEL ``${…}``) and Camunda 8 (FEEL ``=…``) expressions, translated at deploy into Python.

Models drawn for Camunda carry their conditions in these languages. The subset
models really use — comparisons, ``&&``/``||``/``!``/``and``/``or``/``not``,
``empty``, ``eq``/``ne``/``lt``/``gt``/``le``/``ge``, literals, variables,
property and index access, arithmetic and ``a ? b : c`` — becomes the same
expression in the restricted Python every Lanebridge expression is. So do the
calls models make most: JUEL's ``.size()``, ``.isEmpty()``, ``.equals(…)``,
``.contains(…)``, ``.startsWith(…)`` and friends and
``execution.getVariable("x")``; FEEL's ``if … then … else``,
``some``/``every … in … satisfies``, ``between … and``, ``in`` a list or a
range, list literals and ``count``, ``sum``, ``min``, ``max``, ``abs``,
``string length``, ``upper case``, ``lower case``, ``contains``,
``starts with``, ``ends with`` and ``list contains``. Anything else (other
calls, ``for`` loops, filters, text with several ``${…}`` in it) raises
ExpressionError saying what it is.

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
# FEEL words that start constructs outside the subset, or stand out of place; named in the refusal.
_FEEL_CONSTRUCTS = {"satisfies", "for", "then", "else", "in", "between", "instance", "function", "return", "is"}

# JUEL's Java method calls models use, as Python over the object and the arguments.
_JUEL_METHODS = {
    ("size", 0): "len({0})", ("length", 0): "len({0})", ("isEmpty", 0): "(len({0}) == 0)",
    ("equals", 1): "({0} == {1})", ("equalsIgnoreCase", 1): "({0}.lower() == {1}.lower())",
    ("contains", 1): "({1} in {0})", ("containsKey", 1): "({1} in {0})",
    ("startsWith", 1): "{0}.startswith({1})", ("endsWith", 1): "{0}.endswith({1})",
    ("toLowerCase", 0): "{0}.lower()", ("toUpperCase", 0): "{0}.upper()", ("trim", 0): "{0}.strip()",
    ("get", 1): "{0}[{1}]",
}
# FEEL's built-in functions models use (names of several words are written with spaces), as Python.
_FEEL_FUNCTIONS = {
    ("count", 1): "len({0})", ("string length", 1): "len({0})", ("sum", 1): "sum({0})",
    ("min", 1): "min({0})", ("max", 1): "max({0})", ("abs", 1): "abs({0})",
    ("upper case", 1): "{0}.upper()", ("lower case", 1): "{0}.lower()",
    ("contains", 2): "({1} in {0})", ("list contains", 2): "({1} in {0})",
    ("starts with", 2): "{0}.startswith({1})", ("ends with", 2): "{0}.endswith({1})",
}
_FEEL_FUNCTION_WORDS = {name.split()[0]: len(name.split()) for name, _ in _FEEL_FUNCTIONS}


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
        if self.lang == FEEL and _LEVELS[level] == ("<", ">", "<=", ">="):
            left = self.feel_test(left, level)
        while self.operator() in _LEVELS[level]:
            python = self.operator()
            self.take()
            right = self.binary(level + 1)
            left = f"({left} {python} {right})"
        return left

    def feel_test(self, left: str, level: int) -> str:
        """FEEL's ``x between a and b`` and ``x in [list]``/``x in [a..b]`` after the operand `left`."""
        word = self.peek()
        if word == ("name", "between"):
            self.take()
            low = self.binary(level + 1)
            self.expect("and")
            high = self.binary(level + 1)
            return f"({low} <= {left} <= {high})"
        if word == ("name", "in"):
            self.take()
            if self.peek() in (("op", "["), ("op", "(")):
                interval = self.interval(left)
                if interval:
                    return interval
            return f"({left} in {self.binary(level + 1)})"
        return left

    def interval(self, left: str) -> str | None:
        """``[a..b]``, ``(a..b)`` and mixes, as comparisons of `left`; None if it is a list instead."""
        start = self.position
        opening = self.take()[1]
        if self.peek() == ("op", "]"):
            self.position = start
            return None  # an empty list
        low = self.binary(len(_LEVELS) - 2)
        if self.tokens[self.position:self.position + 2] != [("op", "."), ("op", ".")]:
            self.position = start
            return None
        self.position += 2
        high = self.binary(len(_LEVELS) - 2)
        closing = self.take()[1]
        if closing not in ("]", ")"):
            raise ExpressionError(f"a range ends with ']' or ')', not {closing!r}")
        low_op = "<=" if opening == "[" else "<"
        high_op = "<=" if closing == "]" else "<"
        return f"({low} {low_op} {left} {high_op} {high})"

    def arguments(self) -> list[str]:
        """The call's arguments, from its '(' to its ')'."""
        self.expect("(")
        found: list[str] = []
        while self.peek() != ("op", ")"):
            if found:
                self.expect(",")
            found.append(self.ternary())
        self.take()
        return found

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
            if token == ("op", ".") and self.tokens[self.position + 1:self.position + 2] == [("op", ".")]:
                return result  # the ".." of a FEEL range
            if token == ("op", "."):
                self.take()
                kind, name = self.take()
                if kind != "name":
                    raise ExpressionError(f"expected a property name after '.', found {name!r}")
                if self.peek() == ("op", "("):
                    result = self.method(result, name)
                else:
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

    def method(self, target: str, name: str) -> str:
        """A JUEL method call on `target`, as Python; ``execution.getVariable("x")`` reads the variable x."""
        arguments = self.arguments() if self.lang == JUEL else None
        if arguments is None:
            raise ExpressionError(f"method calls such as .{name}(…) are not translated")
        if target == "execution" and name == "getVariable" and len(arguments) == 1:
            variable = _literal_text(arguments[0])
            if variable is None or not variable.isidentifier() or keyword.iskeyword(variable) or variable[0] == "_":
                raise ExpressionError("execution.getVariable(…) is translated for a quoted variable name only")
            return variable
        template = _JUEL_METHODS.get((name, len(arguments)))
        if template is None:
            raise ExpressionError(f"method calls such as .{name}(…) are not translated")
        return template.format(target, *arguments)

    def function(self, first: str) -> str:
        """A FEEL built-in function call whose name starts with the word `first`, as Python."""
        words = [first]
        while len(words) < _FEEL_FUNCTION_WORDS.get(first, 1) and self.peek() and self.peek()[0] == "name":
            words.append(self.take()[1])
        name = " ".join(words)
        arguments = self.arguments()
        template = _FEEL_FUNCTIONS.get((name, len(arguments)))
        if template is None:
            raise ExpressionError(f"function calls such as {name}(…) are not translated")
        return template.format(*arguments)

    def quantified(self, quantifier: str) -> str:
        """FEEL's ``some``/``every x in list satisfies condition``, as Python's any/all."""
        kind, variable = self.take()
        if kind != "name" or keyword.iskeyword(variable) or variable.startswith("_"):
            raise ExpressionError(f"expected a name after {quantifier!r}, found {variable!r}")
        self.expect("in")
        items = self.binary(len(_LEVELS) - 2)
        if self.peek() == ("op", ","):
            raise ExpressionError(f"{quantifier!r} over several lists is not translated")
        self.expect("satisfies")
        condition = self.ternary()
        return f"{'any' if quantifier == 'some' else 'all'}({condition} for {variable} in {items})"

    def conditional(self) -> str:
        """FEEL's ``if condition then a else b``."""
        condition = self.ternary()
        self.expect("then")
        then = self.ternary()
        self.expect("else")
        otherwise = self.ternary()
        return f"({then} if {condition} else {otherwise})"

    def list_literal(self) -> str:
        """FEEL's ``[a, b, c]``."""
        items: list[str] = []
        while self.peek() != ("op", "]"):
            if items:
                self.expect(",")
            items.append(self.ternary())
        self.take()
        return f"[{', '.join(items)}]"

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
        if value == "[" and self.lang == FEEL:
            return self.list_literal()
        if kind != "name":
            raise ExpressionError(f"{value!r} is not expected here")
        if value in _LITERALS:
            return _LITERALS[value]
        if self.lang == FEEL and value == "not" and self.peek() == ("op", "("):
            self.take()
            inner = self.ternary()
            self.expect(")")
            return f"(not {inner})"
        if self.lang == FEEL and value in ("some", "every") and self.peek() and self.peek()[0] == "name":
            return self.quantified(value)
        if self.lang == FEEL and value == "if":
            return self.conditional()
        if self.lang == FEEL and value in _FEEL_CONSTRUCTS:
            raise ExpressionError(f"FEEL's {value!r} is not translated")
        if self.lang == FEEL and (value in _FEEL_FUNCTION_WORDS or self.peek() == ("op", "(")):
            if self.peek() == ("op", "(") or _FEEL_FUNCTION_WORDS.get(value, 1) > 1:
                return self.function(value)
        if self.peek() == ("op", "("):
            raise ExpressionError(f"function calls such as {value}(…) are not translated")
        if value in _WORD_OPERATORS[self.lang] or value in ("not", "empty", "instanceof"):
            raise ExpressionError(f"{value!r} is not expected here")
        if keyword.iskeyword(value) or value.startswith("_"):
            raise ExpressionError(f"a variable named {value!r} cannot be read from Python")
        return value


def _literal_text(python: str) -> str | None:
    """The text of a Python string literal the parser wrote, or None if `python` is something else."""
    if len(python) >= 2 and python[0] == python[-1] and python[0] in "'\"":
        return python[1:-1]
    return None


def _unquote(literal: str) -> str:
    """The text of a quoted string literal, its backslash escapes resolved."""
    return re.sub(r"\\(.)", r"\1", literal[1:-1])

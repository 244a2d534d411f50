"""Camunda's JUEL and FEEL conditions are translated into Python that means the same, or refused saying why."""

from __future__ import annotations

import pytest

from engine.expressions import ExpressionError, translate
from engine.restricted import check_script


def value(source: str, **variables):
    python = translate(source)
    assert check_script(python, "eval") is None, python
    return eval(python, {"__builtins__": {}}, variables)  # noqa: S307 - the translator's own output, in a test


@pytest.mark.parametrize(("source", "variables", "expected"), [
    ("${amount > 1000}", {"amount": 1500}, True),
    ("${amount gt 1000}", {"amount": 500}, False),
    ("${amount >= 10 && amount le 20}", {"amount": 20}, True),
    ("${approved == true}", {"approved": True}, True),
    ("${approved eq false}", {"approved": True}, False),
    ("${!approved}", {"approved": False}, True),
    ("${not approved || urgent}", {"approved": True, "urgent": True}, True),
    ("${level != 'gold' and level ne \"silver\"}", {"level": "bronze"}, True),
    ("${order.total lt 100}", {"order": {"total": 99}}, True),
    ("${order['lines'][0].sku == 'A1'}", {"order": {"lines": [{"sku": "A1"}]}}, True),
    ("${empty comment}", {"comment": ""}, True),
    ("${empty items}", {"items": [1]}, False),
    ("${empty count}", {"count": 0}, False),
    ("${empty reason}", {"reason": None}, True),
    ("${not empty lines}", {"lines": []}, False),
    ("${reviewer == null}", {"reviewer": None}, True),
    ("${amount * 2 div 4 > 10 - 1}", {"amount": 20}, True),
    ("${amount mod 2 == 0}", {"amount": 4}, True),
    ("${vip ? limit > 10 : limit > 100}", {"vip": False, "limit": 50}, False),
    ("#{a < b}", {"a": 1, "b": 2}, True),
    ("= amount > 1000", {"amount": 1001}, True),
    ('=level = "red"', {"level": "red"}, True),
    ("= not(approved)", {"approved": False}, True),
    ("=approved and amount <= 5", {"approved": True, "amount": 5}, True),
    ("= order.lines[1].qty != 0", {"order": {"lines": [{"qty": 3}]}}, True),
    ("= items[-1] = 9", {"items": [1, 9]}, True),
    ("=fraud", {"fraud": False}, False),
    ("= reason = null", {"reason": None}, True),
])
def test_juel_and_feel_mean_the_same_in_python(source, variables, expected):
    assert value(source, **variables) is expected


def test_a_comparison_chain_is_read_left_to_right_as_juel_does():
    # Python would read a < b < c as a < b and b < c; JUEL compares the boolean a < b with c.
    assert translate("${a < b == true}") == "((a < b) == True)"


def test_python_is_left_alone():
    assert translate("amount > 1000") == "amount > 1000"


@pytest.mark.parametrize(("source", "words"), [
    ("${execution.getVariable('amount') > 5}", "method calls"),
    ("${size(items) > 0}", "function calls"),
    ("Amount is ${amount}", "whole expression"),
    ("${a} and ${b}", "whole expression"),
    ("${x = 5}", "'='"),
    ("${a instanceof b}", "'instanceof'"),
    ("= some risk in riskLevels satisfies risk = \"red\"", "FEEL's 'some'"),
    ("= items[qty > 2]", "filter"),
    ("${class == 1}", "cannot be read from Python"),
    ("${_secret}", "cannot be read from Python"),
    ("${a > }", "ends too early"),
    ("${a # b}", "'# b'"),
    ("${}", "empty"),
    ("${(a > 1}", "ends too early"),
    ("${(a > 1 b}", "expected ')', found 'b'"),
])
def test_what_is_outside_the_subset_is_refused_saying_what(source, words):
    with pytest.raises(ExpressionError) as caught:
        translate(source)

    assert words in str(caught.value)

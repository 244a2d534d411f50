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
    ("${order.items.iterator()}", "method calls such as .iterator"),
    ("${execution.getVariable(name)}", "quoted variable name"),
    ("${size(items) > 0}", "function calls"),
    ("= date(due) > today()", "function calls such as date"),
    ("= for x in items return x.qty", "FEEL's 'for'"),
    ("= some x in a, y in b satisfies x = y", "several lists"),
    ("= is defined(reviewer)", "FEEL's 'is'"),
    ("= x in [1..10", "ends too early"),
    ("Amount is ${amount}", "whole expression"),
    ("${a} and ${b}", "whole expression"),
    ("${x = 5}", "'='"),
    ("${a instanceof b}", "'instanceof'"),
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


# What models write beyond operators: JUEL's Java method calls, FEEL's tests, quantifiers and built-in functions.
@pytest.mark.parametrize(("source", "variables", "expected"), [
    ("${items.size() > 0}", {"items": [1]}, True),
    ("${!lines.isEmpty()}", {"lines": []}, False),
    ("${status.equals('approved')}", {"status": "approved"}, True),
    ("${region.equalsIgnoreCase('NORTH')}", {"region": "north"}, True),
    ("${tags.contains('vip') && customer.name.startsWith('Acme')}",
     {"tags": ["vip"], "customer": {"name": "Acme Ltd"}}, True),
    ("${order.containsKey('rush')}", {"order": {"total": 3}}, False),
    ("${execution.getVariable(\"amount\") > 1000}", {"amount": 1500}, True),
    ("${comment.trim().length() == 0}", {"comment": "   "}, True),
    ('= if amount > 1000 then "manager" else "clerk"', {"amount": 5}, "clerk"),
    ('= some risk in risks satisfies risk = "red"', {"risks": ["green", "red"]}, True),
    ("= every line in lines satisfies line.qty > 0", {"lines": [{"qty": 2}, {"qty": 0}]}, False),
    ("= amount between 100 and 200", {"amount": 200}, True),
    ('= level in ["gold", "platinum"]', {"level": "silver"}, False),
    ("= score in [0..10]", {"score": 10}, True),
    ("= score in (0..10)", {"score": 10}, False),
    ("= count(items) >= 2 and sum(amounts) < 100", {"items": [1, 2], "amounts": [40, 50]}, True),
    ("= string length(code) = 4", {"code": "AB12"}, True),
    ('= upper case(country) = "GB"', {"country": "gb"}, True),
    ('= list contains(tags, "vip") or contains(note, "urgent")', {"tags": [], "note": "urgent call"}, True),
    ('= starts with(sku, "W-") and not(ends with(sku, "-X"))', {"sku": "W-100"}, True),
    ("= max(bids) - min(bids) > abs(limit)", {"bids": [3, 9], "limit": -5}, True),
])
def test_calls_quantifiers_and_ranges_run_in_the_restricted_engine(source, variables, expected):
    from engine.scripts import RestrictedEnvironment

    python = translate(source)

    assert check_script(python, "eval") is None, python
    assert RestrictedEnvironment().evaluate(python, dict(variables)) == expected

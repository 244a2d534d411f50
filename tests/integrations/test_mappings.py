"""Field mappings: the shipped file loads, values convert, and bad data is named precisely."""

from __future__ import annotations

import copy
import json

import pytest

from integrations.mappings import MAPPINGS_DIR, MappingError, default_mapping, load_mapping, map_value, map_values

DATA = json.loads((MAPPINGS_DIR / "quote_to_cash.json").read_text())


def test_customer_code_is_reformatted():
    assert map_value(default_mapping(), "customer.code", "C-000123") == "CUST123"
    assert map_value(default_mapping(), "customer.code", "C-120000") == "CUST120000"


def test_bad_customer_code_names_field_and_value():
    with pytest.raises(MappingError) as error:
        map_value(default_mapping(), "customer.code", "X-1")
    assert str(error.value) == "field 'customer.code': value 'X-1' does not match C-\\d{6}"
    assert error.value.field == "customer.code"


def test_phone_is_split_in_three():
    assert map_value(default_mapping(), "customer.phone", "+33 1 42 68 53 00") == {
        "country": "33",
        "area": "1",
        "number": "42685300",
    }


def test_phone_without_country_code_is_rejected():
    with pytest.raises(MappingError, match="customer.phone.*'01 42 68'"):
        map_value(default_mapping(), "customer.phone", "01 42 68")


def test_units_and_currencies_are_looked_up():
    assert map_value(default_mapping(), "line.unit", "pcs") == "u"
    assert map_value(default_mapping(), "order.currency", "EUR") == "EUR"
    with pytest.raises(MappingError, match="field 'line.unit': value 'crate' is not one of"):
        map_value(default_mapping(), "line.unit", "crate")


def test_map_values_converts_only_fields_with_rules():
    assert map_values(default_mapping(), "customer", {"code": "C-000001", "name": "Acme"}) == {
        "code": "CUST1",
        "name": "Acme",
    }


def test_unknown_field_is_an_error():
    with pytest.raises(MappingError, match="no rule for field 'customer.vat'"):
        map_value(default_mapping(), "customer.vat", "FR1")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("fields"), "missing key 'fields'"),
        (lambda d: d["fields"]["customer.code"].update(type="guess"), "fields.customer.code.type: 'guess'"),
        (lambda d: d["fields"]["customer.code"].pop("output"), "fields.customer.code: missing key 'output'"),
        (lambda d: d["fields"]["customer.code"].update(match="C-(\\d"), "fields.customer.code.match: invalid"),
        (lambda d: d["fields"]["customer.code"].update(output="CUST{num}"), "fields.customer.code.output: uses"),
        (lambda d: d["fields"]["line.unit"].update(values=["pcs"]), "fields.line.unit.values"),
        (lambda d: d.update(version="one"), "'version' must be an integer"),
    ],
)
def test_malformed_mapping_names_the_bad_key(change, message):
    data = copy.deepcopy(DATA)
    change(data)
    with pytest.raises(MappingError) as error:
        load_mapping(data)
    assert message in str(error.value)

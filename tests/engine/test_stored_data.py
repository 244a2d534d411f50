"""Task data is stored as JSON: what JSON cannot hold is turned into text, plain data is copied."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.runtime import to_json


def test_plain_data_is_an_independent_copy():
    data = {"customer": {"name": "Acme"}, "lines": [{"qty": 2, "price": 9.5, "gift": False}], "note": None}

    stored = to_json(data)
    data["lines"][0]["qty"] = 3

    assert stored == {"customer": {"name": "Acme"}, "lines": [{"qty": 2, "price": 9.5, "gift": False}],
                      "note": None}


def test_values_json_cannot_hold_become_what_json_would_write():
    stored = to_json({"due": date(2026, 11, 25), "total": Decimal("12.50"), "pair": (1, 2), 7: "seven",
                      "ratio": float("inf")})

    assert stored == {"due": "2026-11-25", "total": "12.50", "pair": [1, 2], "7": "seven", "ratio": "inf"}

"""Reading what changed in a Tryton database since a cursor: the event watcher's one question to the ERP and CRM.

Registered as `erp.list_changes` and `crm.list_changes`; the input says which
records count as changed (a model and a domain), how the cursor moves (by id,
or by change time then id) and where each record's number is read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.connectors import BusinessError, Call
from integrations.tryton.rpc import TrytonClient

MAX_LIMIT = 500
# Tryton sets write_date when its transaction writes, not when it commits: a slow transaction can commit a
# change stamped before the cursor. Each pass reads again this far back; the watcher's keys skip repeats.
LOOKBACK = dt.timedelta(seconds=30)


def _number(client: TrytonClient, rows: list[dict], number: Any) -> None:
    """Set each row's "ledger_number": a field of the record itself, or of the record that links to it."""
    if isinstance(number, str):
        for row in rows:
            row["ledger_number"] = row.get(number)
        return
    # {"model": "sale.sale", "where": "shipments", "field": "number"}: the sale whose shipments hold this record.
    for row in rows:
        found = client.search_read(number["model"], [(number["where"], "=", row["id"])], [number["field"]],
                                   limit=1, order=[("id", "ASC")])
        row["ledger_number"] = found[0][number["field"]] if found else None


def list_changes(client: TrytonClient, call: Call) -> dict:
    """Records of `model` matching `domain` past the cursor, oldest change first, with their ledger number.

    With `newest`, only the newest matching record: where a watch that begins "from now" starts.
    """
    data = call.input
    model, domain, cursor = data["model"], list(data.get("domain") or []), data.get("cursor") or "id"
    if cursor not in ("id", "write_date"):
        raise BusinessError(f"cursor must be 'id' or 'write_date', not {cursor!r}", code="WATCH_BAD_CURSOR")
    limit = min(int(data.get("limit") or 100), MAX_LIMIT)
    number = data.get("number") or "id"
    fields = sorted({"id", "write_date", "create_date", *(data.get("fields") or []),
                     *([number] if isinstance(number, str) else [])})
    if cursor == "id":
        if data.get("after_id") is not None:
            domain.append(("id", ">", int(data["after_id"])))
        order = [("id", "ASC")]
    else:
        if data.get("after_time"):
            since = dt.datetime.fromisoformat(data["after_time"]) - LOOKBACK
            domain.append(("write_date", ">=", since))
        order = [("write_date", "ASC"), ("id", "ASC")]
    if data.get("newest"):
        # Where a watch that begins "from now" starts: the newest matching record only. A record
        # created and never written has no write_date, and the passes by change time never read it.
        order, limit = [(name, "DESC") for name, _ in order], 1
        if cursor == "write_date":
            domain.append(("write_date", "!=", None))
    rows = client.search_read(model, domain, fields, limit=limit, order=order)
    _number(client, rows, number)
    for row in rows:
        changed = row.get("write_date") or row.get("create_date")
        row["changed_at"] = changed.isoformat() if isinstance(changed, dt.datetime) else ""
    return {"changes": rows}

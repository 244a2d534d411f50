"""The inbound CRM poller: one instance per opportunity that became won, exactly once.

It is the watch `crm.won_opportunities` of the event watcher (`integrations/watchers/tryton.json`),
run on its own. Exactly once rests on two things, so that neither alone has to be perfect:

1. the watch's cursor (`PollCursor`) remembers the highest opportunity id handled, so a
   poll asks the CRM only for newer ones;
2. every start carries the idempotency key `crm-opportunity-<id>` and is made by one
   system user, and an opportunity an instance already touched (id ledger) starts nothing,
   so a start repeated after a crash (instance started, cursor not yet moved) starts no second one.
"""

from __future__ import annotations

from engine.models import ProcessInstance
from integrations import watcher

CURSOR_NAME = "crm.won_opportunities"
LIST_OPERATION = "crm.list_changes"
READ_OPERATION = "crm.read_opportunity"


def poll_won_opportunities(process_id: str = "quote_to_cash") -> list[ProcessInstance]:
    """Start `process_id` once for every won opportunity the cursor has not passed; returns the new instances."""
    outcomes = watcher.run_watch(watcher.watch_named(CURSOR_NAME), process=process_id)
    return [outcome.started for outcome in outcomes if outcome.started is not None]

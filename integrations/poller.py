"""The inbound CRM poller: one instance per opportunity that became won, exactly once.

Exactly once rests on two things, so that neither alone has to be perfect:

1. a cursor (`PollCursor`) remembers the highest opportunity id handled, so a
   poll asks the CRM only for newer ones;
2. every start carries the idempotency key `crm-opportunity-<id>` and is made
   by one system user, so a start repeated after a crash (instance started,
   cursor not yet moved) returns the first instance instead of a second one.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from engine import connectors, runtime
from engine.models import ProcessInstance
from integrations.models import ExternalId, PollCursor

log = logging.getLogger(__name__)

CURSOR_NAME = "crm.won_opportunities"
POLLER_USERNAME = "crm-poller"
LIST_OPERATION = "crm.list_won_opportunities"
READ_OPERATION = "crm.read_opportunity"


def poller_user():
    """The system user that starts polled instances; created on first use, it cannot log in."""
    user, created = get_user_model().objects.get_or_create(username=POLLER_USERNAME)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def call_crm(operation: str, data: dict, key: str) -> dict:
    """Call a CRM connector operation directly (no instance exists yet) and return its output."""
    return connectors.get_operation(operation).func(connectors.Call(
        operation=operation, input=data, idempotency_key=key, instance_id=0))


def start_variables(opportunity: dict) -> dict:
    """The quote-to-cash start variables for a CRM opportunity (JSON-safe)."""
    variables = {
        "opportunity_id": opportunity["opportunity_id"],
        "customer": opportunity.get("customer"),
        "lines": opportunity.get("lines") or [],
        "amount": opportunity.get("amount"),
    }
    if opportunity.get("number"):
        # The ERP sales order carries the CRM number as its reference.
        variables["opportunity_number"] = opportunity["number"]
        variables["quote_id"] = opportunity["number"]
    return runtime.to_json(variables)


def advance_cursor(cursor: PollCursor, position: int) -> None:
    """Move the cursor forward to `position`; never backwards if another poller got further."""
    PollCursor.objects.filter(Q(position__isnull=True) | Q(position__lt=position), pk=cursor.pk).update(
        position=position, updated_at=timezone.now())
    cursor.position = max(position, cursor.position or position)


def poll_won_opportunities(process_id: str = "quote_to_cash") -> list[ProcessInstance]:
    """Start `process_id` once for every won opportunity the cursor has not passed; returns the new instances.

    1. list the won opportunities above the cursor, oldest first;
    2. for each: read it, start the instance (idempotent), then move the cursor past it.
    A CRM error stops the run with the cursor after the last opportunity handled.
    """
    cursor, _ = PollCursor.objects.get_or_create(name=CURSOR_NAME)
    user = poller_user()
    listed = call_crm(LIST_OPERATION, {"since_id": cursor.position}, f"{CURSOR_NAME}-{cursor.position}")
    started = []
    for item in sorted(listed.get("opportunities") or [], key=lambda row: int(row["opportunity_id"])):
        opportunity_id = int(item["opportunity_id"])
        if cursor.position is not None and opportunity_id <= cursor.position:
            continue
        if ExternalId.objects.filter(kind="crm.opportunity", value=str(opportunity_id)).exists():
            # Won by an instance Lanebridge already runs for it (the demo process marks its own
            # opportunity won): starting another would ship the order twice.
            advance_cursor(cursor, opportunity_id)
            continue
        opportunity = call_crm(READ_OPERATION, {"opportunity_id": opportunity_id}, f"read-{opportunity_id}")
        instance, created = runtime.start_instance(
            process_id, start_variables({**opportunity, "opportunity_id": opportunity_id}),
            business_key=f"OPP-{opportunity_id}", user=user, idempotency_key=f"crm-opportunity-{opportunity_id}")
        if created:
            started.append(instance)
            log.info("started %s for CRM opportunity %s", instance, opportunity_id)
        advance_cursor(cursor, opportunity_id)
    return started

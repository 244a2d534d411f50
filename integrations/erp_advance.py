"""Moving the ERP along for one instance, as the people in the ERP would: finish its production, deliver, get paid.

For the demo and a local ERP: a newcomer does in Tryton, over its RPC, what
the factory, the warehouse and the customer would do, and then watches the
event watcher carry the change into the instance. Nothing here touches the
instance itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from engine.connectors import ConnectorError
from engine.models import ProcessInstance
from integrations import ledger, watcher


@dataclass(frozen=True)
class Step:
    """One thing that happens in the ERP: the operation doing it and the ERP record it needs."""

    name: str
    label: str
    operation: str
    kind: str
    input_key: str


STEPS = {
    "production": Step("production", gettext_lazy("Finish the production"), "erp.complete_production",
                       "erp.production", "production_id"),
    "shipment": Step("shipment", gettext_lazy("Deliver the shipment"), "erp.ship_order", "erp.sale", "sale_id"),
    "invoice": Step("invoice", gettext_lazy("Pay the invoice"), "erp.pay_invoice", "erp.sale", "sale_id"),
}


class AdvanceError(Exception):
    """The step cannot be done for this instance; the message says why, for the person who asked."""


def find_instance(ref: str) -> ProcessInstance:
    """The instance with this id, or else the newest with this business key; AdvanceError if none."""
    ref = str(ref).strip()
    found = None
    if ref.isdigit():
        found = ProcessInstance.objects.filter(pk=int(ref)).first()
    found = found or ProcessInstance.objects.filter(business_key=ref).order_by("-pk").first()
    if found is None:
        raise AdvanceError(_("No instance has the id or business key %(ref)s.") % {"ref": ref})
    return found


def record_id(instance: ProcessInstance, kind: str) -> int | None:
    """The ERP id (not the number) of the record of `kind` this instance touched, if it did."""
    for _instance_id, value in ledger.instance_numbers([instance.pk], kind):
        if value.isdigit():
            return int(value)
    return None


def available_steps(instance: ProcessInstance) -> list[Step]:
    """The steps this instance's ERP records allow (a production needs one; delivery and payment a sale)."""
    if instance.state not in ProcessInstance.RUNNING:
        return []
    return [step for step in STEPS.values() if record_id(instance, step.kind) is not None]


def advance(instance: ProcessInstance, step_name: str) -> dict:
    """Do `step_name` in the ERP for the instance over Tryton's RPC; the ERP's answer (number and state)."""
    step = STEPS.get(step_name)
    if step is None:
        raise AdvanceError(_("Unknown step %(step)s: choose one of %(steps)s.") % {
            "step": step_name, "steps": ", ".join(STEPS)})
    if instance.state not in ProcessInstance.RUNNING:
        raise AdvanceError(_("Instance %(id)s has ended; its ERP records are left as they are.") % {"id": instance.pk})
    found = record_id(instance, step.kind)
    if found is None:
        raise AdvanceError(_("Instance %(id)s has no ERP record for this step yet (%(kind)s).") % {
            "id": instance.pk, "kind": step.kind})
    try:
        return watcher.call_system(step.operation, {step.input_key: found}, f"advance-{instance.pk}-{step.name}")
    except ConnectorError as exc:
        raise AdvanceError(str(exc)) from None


def done_text(step_name: str, result: dict) -> str:
    """What the ERP now says, in one sentence for the page or the terminal."""
    number = (result.get("production_number") or result.get("shipment_number") or result.get("invoice_number")
              or "")
    return _("%(step)s: %(number)s is %(state)s in the ERP.") % {
        "step": STEPS[step_name].label, "number": number, "state": result.get("state", "")}

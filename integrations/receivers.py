"""Signal receivers that keep the id ledger in line, inside the engine's own transactions."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from engine import connectors
from engine.deploy import DeployError
from engine.models import Job, ProcessInstance
from engine.signals import definition_deploying, instances_archiving, service_result_applied
from integrations import ledger
from integrations.mappings import MappingError, load_mapping
from integrations.models import ExternalId


@receiver(service_result_applied, sender=Job, dispatch_uid="integrations.ledger.service_result")
def record_result_ids(sender, job: Job, output: dict, operation: str, **kwargs) -> None:
    """Record the external ids a service call returned against its instance."""
    try:
        declared = connectors.get_operation(operation).ledger
    except KeyError:
        # Unregistered since the call ran (a reload); fall back to the suffix rule.
        declared = {}
    ledger.record(job.instance_id, ledger.ids_in_output(operation, declared, output), job=job)


@receiver(post_save, sender=ProcessInstance, dispatch_uid="integrations.ledger.instance_started")
def record_start_ids(sender, instance: ProcessInstance, created: bool, **kwargs) -> None:
    """Record the business key and the id variables of a new instance, so search finds it from the start."""
    if created and not kwargs.get("raw"):
        ledger.record(instance.pk, ledger.ids_at_start(instance))


@receiver(definition_deploying, dispatch_uid="integrations.mappings.validate")
def validate_mappings(sender, process_ids: list, mappings: dict, **kwargs) -> None:
    """Refuse a deploy whose field mappings are malformed, naming the bad field."""
    if not mappings:
        return
    try:
        load_mapping(mappings)
    except MappingError as exc:
        raise DeployError(f"Field mappings: {exc}") from None


@receiver(instances_archiving, dispatch_uid="integrations.ledger.archive")
def ledger_numbers_for_archive(sender, instance_ids: list, **kwargs) -> dict:
    """The ids of other systems each instance touched, for its archive line before it is purged."""
    numbers: dict = {}
    for instance_id, kind, value in ExternalId.objects.filter(instance_id__in=instance_ids).order_by("id").values_list(
            "instance_id", "kind", "value"):
        numbers.setdefault(instance_id, {"ledger": []})["ledger"].append({"kind": kind, "value": value})
    return numbers

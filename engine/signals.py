"""Signals the engine sends so other apps can act without the engine importing them."""

from django.dispatch import Signal

# Sent inside the instance's transaction when a user task becomes a HumanTask;
# kwargs: task. Approvals grants object permissions and queues notifications.
human_task_created = Signal()

# Sent inside the transaction that applies a service call's result;
# kwargs: job, output, operation. Integrations records external ids.
service_result_applied = Signal()

# Sent before a deploy writes anything; kwargs: process_ids, mappings. A receiver
# raises engine.deploy.DeployError to refuse the deploy (integrations checks mappings).
definition_deploying = Signal()

# Sent inside the transaction of an operator's or analyst's repair (suspend, resume, variables,
# incident retry/skip/cancel, rollout); kwargs: user, action, object, detail. Accounts writes the audit log.
operator_action = Signal()

# Sent before ended instances are purged, to complete their archive lines; kwargs: instance_ids.
# A receiver returns {instance id: {section: data}}; integrations adds the ledger numbers.
instances_archiving = Signal()

# Sent inside the instance's transaction when it ends: completed at an end event, cancelled or failed;
# kwargs: instance, state, end_event (id), outcome (the end event's name), outcome_kind (the analyst's marking of
# the end event: "rejected", "success" or ""), reason, variables.
# Approvals tells the initiator when their order was rejected, cancelled or failed.
instance_ended = Signal()

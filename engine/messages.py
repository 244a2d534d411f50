"""Messages and signals from outside (and thrown between our processes), routed to the instances that wait.

A message goes, in this order, to the waiting catch events, receive tasks or
boundary events whose instance has its business key and whose variables equal
its correlation; else to the message start events of that name (new
instances); else, with a time to live, into the buffer until a matching wait
opens; else nowhere (404). Each delivery is one `write_instance`, so a message
racing any other write to the instance is applied once, on fresh state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from SpiffWorkflow.util.task import TaskState

from engine import spiff, timers
from engine.history import record_event
from engine.models import (
    BufferedMessage,
    HistoryEvent,
    Job,
    MessageReceipt,
    ProcessInstance,
    StartTrigger,
    Subscription,
)
from engine.runtime import (
    LONE_SURROGATE,
    InvalidVariables,
    check_variables,
    has_lone_surrogate,
    start_instance,
    write_instance,
)
from engine.waits import message as message_wait

log = logging.getLogger(__name__)

# Longest a message may wait in the buffer.
MAX_TTL = timedelta(days=366)


class InvalidMessage(ValueError):
    """A message or signal body the engine cannot take; `field` names the part that is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class Message:
    """A message as sent: who it is for and what it carries."""

    name: str
    business_key: str = ""
    correlation: dict = field(default_factory=dict)
    variables: dict = field(default_factory=dict)
    ttl: timedelta | None = None
    all: bool = False


@dataclass
class Answer:
    """What the sender is told: an HTTP status and a JSON body."""

    status: int
    body: dict


def _text(body: dict, name: str, required: bool = False) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidMessage(name, "this field is required")
        return ""
    if not isinstance(value, str):
        raise InvalidMessage(name, f"must be text, not {type(value).__name__}")
    if len(value) > 255 or "\x00" in value:
        raise InvalidMessage(name, "must be at most 255 characters, without NUL")
    if has_lone_surrogate(value):
        # The signed webhook parses JSON itself, so "\ud800" reaches here; no query can carry it.
        raise InvalidMessage(name, LONE_SURROGATE)
    return value


def _object(body: dict, name: str) -> dict:
    value = body.get(name)
    if value is None:
        return {}
    try:
        return check_variables(value, name)
    except InvalidVariables as exc:
        raise InvalidMessage(name, str(exc)) from None


def parse_message(body) -> Message:
    """Read a message body (name, business_key, correlation, variables, ttl, all); InvalidMessage if wrong."""
    if not isinstance(body, dict):
        raise InvalidMessage("body", "must be a JSON object")
    unknown = sorted(set(body) - {"name", "business_key", "correlation", "variables", "ttl", "all"})
    if unknown:
        raise InvalidMessage(unknown[0], "is not a field of a message")
    ttl = None
    ttl_text = _text(body, "ttl")
    if ttl_text:
        error = timers.check(timers.DURATION, ttl_text)
        if error:
            raise InvalidMessage("ttl", error)
        now = timezone.now()
        ttl = timers.schedule(timers.DURATION, ttl_text, now).first - now
        if ttl <= timedelta(0) or ttl > MAX_TTL:
            raise InvalidMessage("ttl", "must be longer than nothing and at most a year")
    send_all = body.get("all", False)
    if not isinstance(send_all, bool):
        raise InvalidMessage("all", "must be true or false")
    return Message(name=_text(body, "name", required=True), business_key=_text(body, "business_key"),
                   correlation=_object(body, "correlation"), variables=_object(body, "variables"),
                   ttl=ttl, all=send_all)


def parse_signal(body) -> tuple[str, dict]:
    """Read a signal body (`name`, `variables`); InvalidMessage if wrong."""
    if not isinstance(body, dict):
        raise InvalidMessage("body", "must be a JSON object")
    unknown = sorted(set(body) - {"name", "variables"})
    if unknown:
        raise InvalidMessage(unknown[0], "is not a field of a signal")
    return _text(body, "name", required=True), _object(body, "variables")


def answer_once(sender: str, channel: str, idempotency_key: str | None, send) -> Answer:
    """Call `send()` once per idempotency key of this sender; the same key again gets the first answer."""
    if not idempotency_key:
        return send()
    if len(idempotency_key) > 255:
        return Answer(400, {"error": "Idempotency-Key: must be at most 255 characters", "field": "Idempotency-Key"})
    where = {"sender": sender, "channel": channel, "idempotency_key": idempotency_key}
    try:
        with transaction.atomic():
            # Written first: a second request with this key waits here until the first commits.
            receipt = MessageReceipt.objects.create(**where, status=0)
            answer = send()
            if answer.status >= 400:
                # A refusal is not remembered: the sender may correct the body and send again.
                raise _Refused(answer)
            MessageReceipt.objects.filter(pk=receipt.pk).update(status=answer.status, answer=answer.body)
            return answer
    except _Refused as refused:
        return refused.answer
    except IntegrityError:
        first = MessageReceipt.objects.get(**where)
        return Answer(first.status, first.answer)


class _Refused(Exception):
    def __init__(self, answer: Answer):
        self.answer = answer


def send_message(message: Message, user=None) -> Answer:
    """Route a message to its waiting instances, a message start, or the buffer; the sender's answer."""
    with transaction.atomic():
        message_wait.lock(message.name)
        subscriptions = _matching(message)
        instance_ids = list(dict.fromkeys(s.instance_id for s in subscriptions))
        if len(instance_ids) > 1 and not message.all:
            return Answer(409, {
                "error": f"Message {message.name!r} matches {len(instance_ids)} waiting instances; "
                         "narrow it with business_key or correlation, or send it with \"all\": true",
                "instances": instance_ids})
        delivered = []
        for instance_id in instance_ids:
            first = next(s for s in subscriptions if s.instance_id == instance_id)
            if deliver(first, message.variables, user, {"correlation": message.correlation}):
                delivered.append(instance_id)
        if delivered:
            return Answer(200, {"instances": delivered})
        started = start_by_message(message, user)
        if started:
            return Answer(201, {"instances": started})
        if message.ttl is not None:
            buffered = BufferedMessage.objects.create(
                name=message.name, business_key=message.business_key, correlation=message.correlation,
                variables=message.variables, expires_at=timezone.now() + message.ttl)
            return Answer(202, {"buffered": buffered.pk, "expires_at": buffered.expires_at.isoformat()})
    return Answer(404, {"error": f"No instance waits for message {message.name!r}"
                                 f"{' with business key ' + repr(message.business_key) if message.business_key else ''}"
                                 " and no process starts with it", "field": "name"})


def _matching(message: Message) -> list[Subscription]:
    """The subscriptions a message reaches: its name, its business key if it has one, equal correlation."""
    found = Subscription.objects.filter(kind=Subscription.MESSAGE, name=message.name)
    if message.business_key:
        found = found.filter(business_key=message.business_key)
    return [s for s in found.order_by("id") if message_wait.correlates(message.correlation, s.correlation)]


def deliver(subscription: Subscription, variables: dict, user=None, details: dict | None = None) -> bool:
    """Deliver a message or signal to one waiting task and advance its instance; False if it no longer waits."""

    def change(instance, workflow):
        # A suspended instance takes the message in, so it is not lost; what it leads to waits
        # for the resume (no call or timer runs and no task completes while suspended).
        if instance.state not in ProcessInstance.RUNNING:
            return False
        task = spiff.find_task(workflow, subscription.task_id)
        if task is None or task.state != TaskState.WAITING:
            return False
        # The row goes with the wait it stood for; other kinds of the same task are closed by the write.
        Subscription.objects.filter(instance=instance, task_id=subscription.task_id, kind=subscription.kind).delete()
        if subscription.kind == Subscription.MESSAGE:
            spiff.catch_message(task, subscription.name, variables)
            kind = HistoryEvent.MESSAGE
        else:
            spiff.catch_signal(task, subscription.name, variables)
            kind = HistoryEvent.SIGNAL
        record_event(instance, kind, subscription.element_id, task.task_spec.bpmn_name or "", user=user,
                     data={subscription.kind: subscription.name, "variables": variables, **(details or {})})
        return True

    return bool(write_instance(subscription.instance_id, change, user=user))


def start_by_message(message: Message, user=None) -> list[int]:
    """Start every process whose newest version has a message start event of this name; the new instance ids."""
    started = []
    for trigger in StartTrigger.objects.filter(kind=StartTrigger.MESSAGE, name=message.name).select_related(
            "definition").order_by("id"):
        # The version whose start event this is, whatever share a rollout gives another.
        instance, _ = start_instance(trigger.process_id, message.variables, message.business_key, user=user,
                                     version=trigger.definition.version, start_event=trigger.element_id,
                                     started_by_event={"message": message.name})
        started.append(instance.pk)
    return started


def send_signal(name: str, variables: dict, user=None) -> Answer:
    """Deliver a signal to every instance waiting for it and start every process with a signal start of that name."""
    with transaction.atomic():
        reached = []
        for subscription in Subscription.objects.filter(kind=Subscription.SIGNAL, name=name).order_by("id"):
            if subscription.instance_id in reached:
                continue
            if deliver(subscription, variables, user):
                reached.append(subscription.instance_id)
        for trigger in StartTrigger.objects.filter(kind=StartTrigger.SIGNAL, name=name).select_related(
                "definition").order_by("id"):
            instance, _ = start_instance(trigger.process_id, variables, user=user, version=trigger.definition.version,
                                         start_event=trigger.element_id,
                                         started_by_event={"signal": name})
            reached.append(instance.pk)
    return Answer(200, {"instances": reached})


def forward(job: Job) -> str:
    """Send a message or signal an instance threw (a job written with its write); mark the job done."""
    name, variables = job.input["name"], job.input.get("variables") or {}
    with transaction.atomic():
        if job.kind == Job.SIGNAL:
            answer = send_signal(name, variables)
            kind = HistoryEvent.SIGNAL_SENT
        else:
            answer = send_message(Message(name=name, business_key=job.input.get("business_key") or "",
                                          variables=variables, all=True))
            kind = HistoryEvent.MESSAGE_SENT
        Job.objects.filter(pk=job.pk).update(state=Job.DONE, result=answer.body, locked_until=None)
        record_event(job.instance, kind, job.element_id, data={
            job.kind: name, "variables": variables, "status": answer.status,
            "instances": answer.body.get("instances", [])})
    return "sent"


def expire_buffered(now: datetime | None = None) -> int:
    """Mark buffered messages whose time to live ran out as expired (kept as the record); returns how many."""
    now = now or timezone.now()
    expired = list(BufferedMessage.objects.filter(state=BufferedMessage.WAITING, expires_at__lte=now)
                   .values_list("pk", "name", "business_key")[:500])
    for pk, name, business_key in expired:
        if BufferedMessage.objects.filter(pk=pk, state=BufferedMessage.WAITING).update(
                state=BufferedMessage.EXPIRED, ended_at=now):
            log.warning("buffered message %s (%s, business key %r) expired undelivered", pk, name, business_key)
    return len(expired)


def fire_start_timers(now: datetime | None = None) -> int:
    """Start an instance for every due timer start event, each firing claimed once; returns how many started."""
    now = now or timezone.now()
    started = 0
    due = StartTrigger.objects.filter(kind=StartTrigger.TIMER, due_at__lte=now).select_related(
        "definition").order_by("due_at")[:100]
    for trigger in due:
        next_due, remaining = _next_firing(trigger, now)
        try:
            with transaction.atomic():
                # The conditional update is the claim: another scheduler that read the same row changes nothing.
                if not StartTrigger.objects.filter(pk=trigger.pk, due_at=trigger.due_at).update(
                        due_at=next_due, remaining=remaining):
                    continue
                start_instance(trigger.process_id, {}, version=trigger.definition.version,
                               start_event=trigger.element_id,
                               started_by_event={"timer": trigger.name, "due_at": trigger.due_at.isoformat()})
                started += 1
        except Exception:  # noqa: BLE001 - one process failing to start must not stop the others
            log.exception("timer start %s of %s failed; tried again on the next pass", trigger.element_id,
                          trigger.process_id)
    return started


def _next_firing(trigger: StartTrigger, now: datetime) -> tuple[datetime | None, int | None]:
    """The firing after this one and the firings left after it.

    A cycle with a count fires every one of its rounds, late ones on the next passes; an endless
    cycle skips the rounds missed while no scheduler ran, rather than starting them all at once.
    """
    remaining = None if trigger.remaining is None else trigger.remaining - 1
    if not trigger.every_seconds or remaining == 0:
        return None, remaining
    every = timedelta(seconds=trigger.every_seconds)
    next_due = trigger.due_at + every
    while remaining is None and next_due <= now:
        next_due += every
    return next_due, remaining


__all__ = ["Answer", "InvalidMessage", "Message", "answer_once", "deliver", "expire_buffered", "fire_start_timers",
           "forward", "parse_message", "parse_signal", "send_message", "send_signal"]

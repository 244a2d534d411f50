"""The ERP/CRM event watcher: what changed in Tryton since a cursor becomes a message (or a start), exactly once.

Which changes become which messages is configuration: the JSON files of
`integrations/watchers/` (or the files named in LANEBRIDGE_WATCHERS), each
holding a list of *watches*. A pass over one watch:

1. asks the system (`<system>.list_changes`) for the records matching the
   watch's domain past its cursor, oldest change first, each with its number;
2. for each record, in one transaction: sends the configured message through
   the engine's message delivery under the idempotency key
   `<model>:<record id>` (or starts the configured process under its own key),
   and writes what became of it (`ErpChange`, the operators' record);
3. then moves the cursor past the record.

A crash between 2 and 3 makes the next pass see the record again; the key
gives back the first answer, so nothing is delivered or started twice.

Correlation: the record's number is looked up in the id ledger; the message
carries the business key of the one running instance that touched it and, as
correlation, the number under the process variable the watch names, so it
can only reach the instance whose variable holds that number. A change that
no instance waits for yet is buffered with the watch's time to live (and
listed as buffered); one that cannot be correlated at all is listed as
unmatched. None is dropped without a row.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from engine import connectors, messages, runtime, timers
from engine.models import ProcessInstance
from integrations import ledger
from integrations.models import ErpChange, PollCursor

log = logging.getLogger(__name__)

WATCHERS_DIR = Path(__file__).resolve().parent / "watchers"
DEFAULT_TTL = "P30D"
WATCHER_USERNAME = "erp-watcher"
SYSTEMS = ("erp", "crm")


class WatchError(ValueError):
    """A watch configuration that cannot run; the message names the file, the watch and the field."""


@dataclass
class MessageAction:
    """Send a message to the instance that touched the record's number."""

    name: str
    ledger: str
    correlate_on: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    ttl: str = DEFAULT_TTL


@dataclass
class StartAction:
    """Start a process for the record (unless an instance already touched it)."""

    process: str
    business_key: str = "{id}"
    idempotency_key: str = ""
    read: str = ""
    read_input: str = "id"
    variables: dict[str, str] = field(default_factory=dict)
    skip_if_ledger: str = ""
    user: str = WATCHER_USERNAME


@dataclass
class Watch:
    """One kind of change to watch for: which records, how the cursor moves, what it becomes."""

    name: str
    system: str
    model: str
    domain: list = field(default_factory=list)
    cursor: str = "write_date"
    number: str | dict = "id"
    fields: list[str] = field(default_factory=list)
    limit: int = 100
    # "start": a new watch handles every matching record there is; "now": only what changes after it began.
    begin: str = "start"
    message: MessageAction | None = None
    start: StartAction | None = None

    @property
    def list_operation(self) -> str:
        return f"{self.system}.list_changes"


# --------------------------------------------------------------------------- configuration


def _require(raw: dict, key: str, where: str, kind: type = str):
    value = raw.get(key)
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        raise WatchError(f"{where}: '{key}' is required and must be {kind.__name__}")
    return value


def _action(cls, raw: dict, where: str):
    if not isinstance(raw, dict):
        raise WatchError(f"{where}: must be an object")
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise WatchError(f"{where}: unknown field '{unknown[0]}' (known: {', '.join(sorted(known))})")
    for key, value in raw.items():
        if key == "variables":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise WatchError(f"{where}: 'variables' maps process variables to record fields (text)")
        elif not isinstance(value, str):
            raise WatchError(f"{where}: '{key}' must be text")
    for spec in dataclasses.fields(cls):
        if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING and not raw.get(
                spec.name):
            raise WatchError(f"{where}: '{spec.name}' is required")
    return cls(**raw)


def parse_watch(raw: dict, where: str) -> Watch:
    """One watch from its JSON object; WatchError naming `where` and the field if it cannot run."""
    if not isinstance(raw, dict):
        raise WatchError(f"{where}: a watch must be an object")
    name = _require(raw, "name", where)
    where = f"{where} ({name})"
    known = {"name", "system", "model", "domain", "cursor", "number", "fields", "limit", "message", "start",
             "description", "from"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise WatchError(f"{where}: unknown field '{unknown[0]}'")
    system = _require(raw, "system", where)
    if system not in SYSTEMS:
        raise WatchError(f"{where}: 'system' must be one of {', '.join(SYSTEMS)}")
    cursor = raw.get("cursor", "write_date")
    if cursor not in ("id", "write_date"):
        raise WatchError(f"{where}: 'cursor' must be 'id' or 'write_date'")
    begin = raw.get("from", "start")
    if begin not in ("start", "now"):
        raise WatchError(f"{where}: 'from' must be 'start' (every matching record) or 'now' (changes from now on)")
    domain = raw.get("domain", [])
    if not isinstance(domain, list) or not all(isinstance(c, (list, str)) for c in domain):
        raise WatchError(f"{where}: 'domain' must be a list of [field, operator, value] clauses")
    number = raw.get("number", "id")
    if isinstance(number, dict):
        missing = [k for k in ("model", "where", "field") if not isinstance(number.get(k), str)]
        if missing:
            raise WatchError(f"{where}: 'number.{missing[0]}' is required (text)")
    elif not isinstance(number, str):
        raise WatchError(f"{where}: 'number' must be a field name or {{model, where, field}}")
    if ("message" in raw) == ("start" in raw):
        raise WatchError(f"{where}: give exactly one of 'message' or 'start'")
    watch = Watch(name=name, system=system, model=_require(raw, "model", where), domain=domain, cursor=cursor,
                  number=number, fields=list(raw.get("fields") or []), limit=int(raw.get("limit", 100)),
                  begin=begin)
    if "message" in raw:
        watch.message = _action(MessageAction, raw["message"], f"{where}.message")
        error = timers.check(timers.DURATION, watch.message.ttl)
        if error:
            raise WatchError(f"{where}.message: 'ttl' {error}")
    else:
        watch.start = _action(StartAction, raw["start"], f"{where}.start")
    # The record fields the message or start variables read must be fetched with it.
    action = watch.message or watch.start
    if not getattr(action, "read", ""):
        watch.fields = sorted({*watch.fields, *action.variables.values()} - {"ledger_number", "changed_at"})
    return watch


def load_file(path: Path | str) -> list[Watch]:
    """The watches of one JSON file (`{"watches": [...]}`)."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WatchError(f"{path.name}: cannot read it as JSON ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("watches"), list):
        raise WatchError(f"{path.name}: must be an object with a list 'watches'")
    return [parse_watch(item, f"{path.name} watches[{i}]") for i, item in enumerate(raw["watches"])]


def configured_files() -> list[Path]:
    """The watch files in use: LANEBRIDGE_WATCHERS if set, else every file in integrations/watchers/."""
    named = settings.LANEBRIDGE.get("WATCHERS") or []
    if named:
        return [Path(p) for p in named]
    return sorted(WATCHERS_DIR.glob("*.json"))


def load_watches(paths: list[Path] | None = None) -> list[Watch]:
    """Every configured watch; WatchError if a file is wrong or two watches share a name."""
    watches: list[Watch] = []
    for path in configured_files() if paths is None else paths:
        watches += load_file(path)
    names = [w.name for w in watches]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise WatchError(f"two watches are named {twice[0]!r}")
    return watches


def watch_named(name: str, paths: list[Path] | None = None) -> Watch:
    """The configured watch called `name`; KeyError naming it if there is none."""
    for watch in load_watches(paths):
        if watch.name == name:
            return watch
    raise KeyError(f"no watch named {name!r} is configured")


# --------------------------------------------------------------------------- one pass


def call_system(operation: str, data: dict, key: str) -> dict:
    """Call a connector operation directly (outside any instance) and return its output."""
    return connectors.get_operation(operation).func(connectors.Call(
        operation=operation, input=data, idempotency_key=key, instance_id=0))


def system_user(username: str):
    """The system user that starts instances for the watcher; created on first use, it cannot log in."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def advance_cursor(cursor: PollCursor, position: int, changed_at: str = "") -> None:
    """Move the cursor to the record (`position`, `changed_at`); never backwards if another pass got further."""
    if changed_at:
        behind = (Q(changed_at="") | Q(changed_at__lt=changed_at)
                  | Q(changed_at=changed_at, position__lt=position) | Q(position__isnull=True))
    else:
        behind = Q(position__isnull=True) | Q(position__lt=position)
    PollCursor.objects.filter(behind, pk=cursor.pk).update(position=position, changed_at=changed_at,
                                                           updated_at=timezone.now())
    cursor.refresh_from_db()


@dataclass
class Outcome:
    """What one change became."""

    outcome: str
    instances: list = field(default_factory=list)
    detail: dict = field(default_factory=dict)
    started: ProcessInstance | None = None


def _value(record: dict, path: str):
    """A field of the record, following "a.b" through nested objects."""
    value = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _running_instances(kind: str, number) -> list[ProcessInstance]:
    ids = ledger.instances_with_id(kind, number)
    return list(ProcessInstance.objects.filter(pk__in=ids, state__in=ProcessInstance.RUNNING).order_by("pk"))


def deliver_change(watch: Watch, change: dict) -> Outcome:
    """Send the watch's message for one change through the engine's message delivery, once per record."""
    action = watch.message
    number = change.get("ledger_number")
    if number in (None, ""):
        return Outcome(ErpChange.UNMATCHED, detail={"reason": "the record has no number to correlate on"})
    instances = _running_instances(action.ledger, number)
    business_key = instances[0].business_key if len(instances) == 1 else ""
    correlation = {action.correlate_on: number} if action.correlate_on else {}
    if not correlation and not business_key:
        # Sent without either, it would reach whichever instance waits for the name: never guess.
        return Outcome(ErpChange.UNMATCHED, detail={
            "reason": f"no running instance touched {number} ({action.ledger}) and the watch correlates on nothing",
            "ledger_matches": [i.pk for i in instances]})
    message = messages.Message(
        name=action.name, business_key=business_key, correlation=correlation,
        variables=runtime.to_json({var: _value(change, path) for var, path in action.variables.items()}),
        ttl=timers.schedule(timers.DURATION, action.ttl, timezone.now()).first - timezone.now())
    answer = messages.answer_once(f"watcher:{watch.name}"[:64], "message", f"{watch.model}:{change['id']}",
                                  lambda: messages.send_message(message))
    detail = {"status": answer.status, "business_key": business_key, "correlation": correlation}
    if answer.status == 200:
        return Outcome(ErpChange.DELIVERED, answer.body.get("instances", []), detail)
    if answer.status == 201:
        return Outcome(ErpChange.STARTED, answer.body.get("instances", []), detail)
    if answer.status == 202:
        return Outcome(ErpChange.BUFFERED, [], {**detail, **answer.body})
    return Outcome(ErpChange.UNMATCHED, answer.body.get("instances", []), {**detail, "error": answer.body.get("error")})


def start_for_change(watch: Watch, change: dict, process: str | None = None) -> Outcome:
    """Start the watch's process for one change, once per record; skipped if an instance already touched it."""
    action = watch.start
    if action.skip_if_ledger and ledger.instances_with_id(action.skip_if_ledger, change["id"]):
        # An instance Lanebridge already runs caused this change (the demo marks its own opportunity won):
        # starting another would ship the order twice.
        return Outcome(ErpChange.SKIPPED, ledger.instances_with_id(action.skip_if_ledger, change["id"]),
                       {"reason": f"already handled by an instance ({action.skip_if_ledger})"})
    record = change
    if action.read:
        record = {**call_system(action.read, {action.read_input: change["id"]}, f"read-{change['id']}"),
                  "id": change["id"]}
    values = {"id": change["id"], "number": change.get("ledger_number") or record.get("number") or ""}
    variables = {var: _value(record, path) for var, path in action.variables.items()} if action.variables else {}
    instance, created = runtime.start_instance(
        process or action.process, runtime.to_json(variables),
        business_key=action.business_key.format_map(values), user=system_user(action.user),
        idempotency_key=(action.idempotency_key or f"{watch.name}-{{id}}").format_map(values))
    if created:
        log.info("started %s for %s %s", instance, watch.model, change["id"])
    return Outcome(ErpChange.STARTED, [instance.pk], {"created": created}, instance if created else None)


def handle_change(watch: Watch, change: dict, process: str | None = None) -> Outcome:
    """Deliver or start for one change and record it, in one transaction."""
    with transaction.atomic():
        outcome = start_for_change(watch, change, process) if watch.start else deliver_change(watch, change)
        row, created = ErpChange.objects.get_or_create(watch=watch.name, record_id=int(change["id"]), defaults={
            "model": watch.model, "number": str(change.get("ledger_number") or "")[:255],
            "message": watch.message.name if watch.message else "", "outcome": outcome.outcome,
            "instances": outcome.instances, "detail": outcome.detail})
        if not created and row.outcome == ErpChange.UNMATCHED and outcome.outcome != ErpChange.UNMATCHED:
            # Matched on a later pass (the instance reached its wait, or the ledger learnt the number).
            ErpChange.objects.filter(pk=row.pk).update(outcome=outcome.outcome, instances=outcome.instances,
                                                       detail=outcome.detail, seen_at=timezone.now())
    if outcome.outcome == ErpChange.UNMATCHED and created:
        log.warning("ERP change %s %s of watch %s reached no instance: %s", watch.model, change["id"], watch.name,
                    outcome.detail)
    return outcome


def begin_now(watch: Watch, cursor: PollCursor) -> None:
    """Place a new cursor of a "from now" watch at the newest matching record, handling none of what is there."""
    data = {"model": watch.model, "domain": watch.domain, "cursor": watch.cursor, "number": watch.number,
            "newest": True}
    newest = (call_system(watch.list_operation, data, f"{watch.name}-begin").get("changes") or [None])[0]
    position, changed_at = (int(newest["id"]), newest.get("changed_at", "")) if newest else (0, "")
    PollCursor.objects.filter(pk=cursor.pk, position__isnull=True).update(
        position=position, **({} if watch.cursor == "id" else {"changed_at": changed_at, "began_at": changed_at}),
        updated_at=timezone.now())
    cursor.refresh_from_db()
    log.info("watch %s begins from now: after %s %s, none of the records before is handled", watch.name,
             watch.model, position)


def run_watch(watch: Watch, process: str | None = None) -> list[Outcome]:
    """One pass of one watch: every change past its cursor, handled then passed; the outcomes."""
    cursor, _ = PollCursor.objects.get_or_create(name=watch.name)
    if watch.begin == "now" and cursor.position is None:
        begin_now(watch, cursor)
        return []
    data = {"model": watch.model, "domain": watch.domain, "cursor": watch.cursor, "number": watch.number,
            "fields": watch.fields, "limit": watch.limit}
    if watch.cursor == "id":
        data["after_id"] = cursor.position
    else:
        data["after_time"] = cursor.changed_at
    listed = call_system(watch.list_operation, data, f"{watch.name}-{cursor.position}")
    outcomes = []
    for change in listed.get("changes") or []:
        if watch.cursor == "id" and cursor.position is not None and int(change["id"]) <= cursor.position:
            continue
        if cursor.began_at and change.get("changed_at", "") <= cursor.began_at:
            continue  # there before the watch began "from now"
        outcomes.append(handle_change(watch, change, process))
        advance_cursor(cursor, int(change["id"]), change.get("changed_at", "") if watch.cursor != "id" else "")
    return outcomes


# The last failure of each watch, so a system that stays down is reported once, not at every pass.
_last_failure: dict[str, str] = {}


def run_watchers(watches: list[Watch] | None = None) -> int:
    """One pass of every configured watch; a system that is down stops its watches only. How many changes."""
    handled = 0
    for watch in load_watches() if watches is None else watches:
        try:
            handled += len(run_watch(watch))
        except connectors.ConnectorError as exc:
            # The cursor keeps our place: the ERP being down an hour loses nothing.
            if _last_failure.get(watch.name) != str(exc):
                log.warning("watch %s: %s (the next passes try again)", watch.name, exc)
            _last_failure[watch.name] = str(exc)
        except Exception:  # noqa: BLE001 - one broken watch must not stop the others
            log.exception("watch %s failed", watch.name)
        else:
            if _last_failure.pop(watch.name, None):
                log.warning("watch %s works again", watch.name)
    return handled

"""Timer texts as modelers write them: plain ISO 8601 (``PT4S``, ``R2/PT3S``,
``2026-12-24T10:00:00Z``) or a quoted Python expression (``"PT4S"``).

SpiffWorkflow evaluates every timer text as a Python expression, so plain ISO
text is handed to it quoted (`as_expression`). `iso_text`, `check` and
`schedule` serve anything else that reads timers (deploy checks, timer starts).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition

# The three kinds of timer, named after their BPMN elements.
DURATION, DATE, CYCLE = "timeDuration", "timeDate", "timeCycle"

# Shapes that can only be meant as ISO 8601, never as a Python expression.
_PLAIN_ISO = re.compile(r"^(P(T?\d|\d)|R\d*/|\d{4}-)", re.IGNORECASE)


def is_plain_iso(text: str) -> bool:
    """True if a timer's text is written as plain ISO 8601 rather than as an expression."""
    return bool(_PLAIN_ISO.match((text or "").strip()))


def as_expression(text: str) -> str:
    """The Python expression SpiffWorkflow evaluates for a timer's text: plain ISO quoted, anything else as written."""
    stripped = (text or "").strip()
    return repr(stripped) if is_plain_iso(stripped) else text


def iso_text(text: str) -> str | None:
    """The ISO 8601 text of a timer written plain or as a quoted literal; None for any other expression."""
    stripped = (text or "").strip()
    if is_plain_iso(stripped):
        return stripped
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value.strip() if isinstance(value, str) else None


def _duration(text: str) -> dict:
    if not text.upper().startswith("P"):
        raise ValueError(f"{text!r} is not a duration")
    parsed = TimerEventDefinition.parse_iso_duration(text.upper())
    if not parsed:
        raise ValueError(f"{text!r} is an empty duration")
    return parsed


def _date(text: str) -> datetime:
    if "W" in text.upper():
        return TimerEventDefinition.parse_iso_week(text)
    return TimerEventDefinition.get_datetime(text)


EXAMPLES = {DURATION: "PT4S or P1D", DATE: "2026-12-24T10:00:00Z", CYCLE: "R3/PT1H or R/P1D"}


def check(kind: str, text: str) -> str | None:
    """Why `text` is not a valid ISO 8601 value for a timer of this kind; None if it is."""
    try:
        if kind == DURATION:
            _duration(text)
        elif kind == DATE:
            _date(text)
        elif kind == CYCLE:
            schedule(kind, text, datetime.now().astimezone())
        else:
            return f"unknown timer kind {kind!r}"
    except Exception:  # noqa: BLE001 - SpiffWorkflow's parsers raise bare Exception
        return f"{text!r} is not an ISO 8601 {_WORDS[kind]}: write it as {EXAMPLES[kind]}"
    return None


_WORDS = {DURATION: "duration", DATE: "date and time", CYCLE: "repeating interval"}


@dataclass(frozen=True)
class Schedule:
    """When a timer fires: first at `first`, then every `every`, `repeats` times in all (None: for ever)."""

    first: datetime
    every: timedelta | None = None
    repeats: int | None = 1


def schedule(kind: str, text: str, now: datetime) -> Schedule:
    """The firing times of an ISO 8601 timer text reached at `now`; ValueError if the text is not valid."""
    text = text.strip()
    if kind == DURATION:
        return Schedule(now + TimerEventDefinition.get_timedelta_from_start(_duration(text), now))
    if kind == DATE:
        return Schedule(_date(text))
    if kind != CYCLE:
        raise ValueError(f"unknown timer kind {kind!r}")
    match = re.match(r"^R(\d*)/(.+)$", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"{text!r} is not a repeating interval")
    repeats = int(match.group(1)) if match.group(1) else None
    parts = match.group(2).split("/")
    if len(parts) == 1:
        # R3/PT1H: the first firing is one interval from now.
        every = TimerEventDefinition.get_timedelta_from_start(_duration(parts[0]), now)
        first = now + every
    elif len(parts) == 2 and parts[0].upper().startswith("P"):
        # R3/PT1H/2026-12-24T10:00:00Z: intervals ending at that time.
        end = _date(parts[1])
        every = TimerEventDefinition.get_timedelta_from_end(_duration(parts[0]), end)
        first = end - every
    elif len(parts) == 2:
        # R3/2026-12-24T10:00:00Z/PT1H: starting at that time.
        first = _date(parts[0])
        every = TimerEventDefinition.get_timedelta_from_start(_duration(parts[1]), first)
    else:
        raise ValueError(f"{text!r} is not a repeating interval")
    if repeats == 0:
        raise ValueError(f"{text!r} never fires")
    if every <= timedelta(0):
        raise ValueError(f"{text!r} has no interval")
    return Schedule(first, every, repeats)


# A time long past: a timer told it is due at this moment fires on SpiffWorkflow's next look.
_LONG_AGO = "1970-01-01T00:00:00+00:00"


def fire(workflow, task) -> datetime | None:
    """Fire a waiting timer task whose time our clock says has come; returns when a cycle's next round is due.

    SpiffWorkflow compares timers with the real clock, so the timer is told it is
    due. A cycle timer fires one round; None means it has no round left (or is
    not a cycle), and SpiffWorkflow then lets it complete.
    """
    value = task._get_internal_data("event_value")
    if not isinstance(task.task_spec.event_definition, CycleTimerEventDefinition) or not isinstance(value, dict):
        task._set_internal_data(event_value=_LONG_AGO)
        workflow.refresh_timers()
        return None
    due = datetime.fromisoformat(value["next"])
    value["next"] = _LONG_AGO
    workflow.refresh_timers()
    value = task._get_internal_data("event_value")
    if value["cycles"] != 0:
        value["next"] = (due + timedelta(seconds=value["duration"])).isoformat()
        return datetime.fromisoformat(value["next"])
    # No round left: SpiffWorkflow marks the timer fired on one look and completes it on the next.
    workflow.refresh_timers()
    workflow.refresh_timers()
    return None

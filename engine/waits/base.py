"""What every kind of wait shows on an instance's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Pending:
    """One thing an instance waits for: the element, what it waits for, and until when if known."""

    kind: str
    element_id: str
    what: str
    due_at: datetime | None = None

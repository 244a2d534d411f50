"""A generic REST connector whose operations are configured as data (see `config`)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

from engine import connectors
from integrations.rest.config import parse_config
from integrations.rest.connector import call_operation


def load_rest_connector(config: dict) -> list[str]:
    """Check `config` and register each of its operations with the engine; returns their names.

    Nothing is registered if any operation is invalid (ValueError naming it and the field).
    """
    operations = parse_config(config)
    for operation in operations:
        connectors.register(
            operation.name, partial(call_operation, operation),
            description=operation.description or f"{operation.method} {operation.url}",
            ledger=operation.ledger,
        )
    return [operation.name for operation in operations]


def load_rest_connector_file(path: str | Path) -> list[str]:
    """Load a REST connector configuration from a JSON file and register its operations."""
    try:
        config = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"REST connector {path}: not valid JSON: {exc}") from None
    return load_rest_connector(config)

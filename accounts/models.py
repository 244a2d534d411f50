"""Identity rows: API tokens and the audit log."""

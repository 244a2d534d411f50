"""Celery entry points of integrations (scheduled by beat in the scaled setup)."""

from celery import shared_task

from integrations import watcher


@shared_task(name="integrations.tasks.watch_erp")
def watch_erp() -> int:
    """One pass of the ERP/CRM event watcher."""
    return watcher.run_watchers()

"""Celery entry points of monitoring (scheduled by beat in the scaled setup)."""

from celery import shared_task

from monitoring.alerts import run_alerts as run


@shared_task(name="monitoring.tasks.run_alerts")
def run_alerts() -> int:
    """Find new problems and send the alerts due."""
    return run()

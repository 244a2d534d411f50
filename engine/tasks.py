"""Celery entry points; thin wrappers over engine.jobs."""

from celery import shared_task

from engine import jobs


@shared_task(name="engine.tasks.run_job", acks_late=True)
def run_job_task(job_id: int) -> str:
    """Run one job (service call or timer)."""
    return jobs.run_job(job_id)


@shared_task(name="engine.tasks.run_due_work")
def run_due_work() -> int:
    """Dispatch due retries and timers, and take back jobs of dead workers."""
    return jobs.run_due_work()

"""Celery entry points; thin wrappers over engine.jobs."""

from celery import shared_task

from engine import jobs, retention


@shared_task(name="engine.tasks.run_job", acks_late=True)
def run_job_task(job_id: int) -> str:
    """Run one job (service call or timer)."""
    return jobs.run_job(job_id)


@shared_task(name="engine.tasks.run_due_work")
def run_due_work() -> int:
    """Dispatch due retries and timers, and take back jobs of dead workers."""
    return jobs.run_due_work()


@shared_task(name="engine.tasks.purge_history")
def purge_history() -> int:
    """Archive and delete what ended more than LANEBRIDGE_HISTORY_DAYS ago (Celery beat runs it daily)."""
    return retention.purge_expired()

"""The Celery app: `celery -A lanebridge worker` in the scaled setup."""

import os

from celery import Celery
from celery.signals import task_prerun, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lanebridge.settings")

app = Celery("lanebridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def take_back_jobs_of_dead_processes(**_) -> None:
    """A worker restarted on a machine runs again, at once, the calls its dead predecessor had claimed."""
    from engine.jobs import take_back_jobs_of_dead_processes

    take_back_jobs_of_dead_processes()


@task_prerun.connect
def drop_broken_database_connections(**_) -> None:
    """Before a task, as before a web request: replace a kept connection that broke or grew too old."""
    from django.db import close_old_connections

    close_old_connections()

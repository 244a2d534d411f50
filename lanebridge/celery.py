"""The Celery app: `celery -A lanebridge worker` in the scaled setup."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lanebridge.settings")

app = Celery("lanebridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from django.apps import AppConfig


class EngineConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'engine'

    def ready(self):
        from engine import dispatch, jobs

        # Jobs run in this process (no broker) go to the same runner a Celery worker calls.
        dispatch.in_process_runner = jobs.run_job

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _create_roles(sender, **kwargs) -> None:
    from processes.roles import ensure_roles

    ensure_roles()


class ProcessesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "processes"

    def ready(self) -> None:
        post_migrate.connect(_create_roles, sender=self)

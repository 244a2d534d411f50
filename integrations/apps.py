from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"

    def ready(self) -> None:
        # Importing the operation modules registers them with the engine.
        from integrations import builtin  # noqa: F401

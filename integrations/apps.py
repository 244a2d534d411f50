from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"

    def ready(self) -> None:
        # Importing the operation modules registers them with the engine.
        from integrations import builtin, receivers  # noqa: F401
        from integrations.crm_tryton import operations as crm_operations  # noqa: F401
        from integrations.erp_tryton import operations as erp_operations  # noqa: F401

import importlib

from django.apps import AppConfig
from django.conf import settings


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"

    def ready(self) -> None:
        # Importing the operation modules registers them with the engine.
        from integrations import builtin, receivers  # noqa: F401
        from integrations.crm_tryton import operations as crm_operations  # noqa: F401
        from integrations.erp_tryton import operations as erp_operations  # noqa: F401
        from integrations.rest import load_rest_connector_file

        # A deployment adds its own connectors without changing this repository.
        for module in settings.LANEBRIDGE["CONNECTOR_MODULES"]:
            importlib.import_module(module)
        for path in settings.LANEBRIDGE["REST_CONNECTORS"]:
            load_rest_connector_file(path)

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who people are: sign-on (local, LDAP, OIDC), API tokens, lockout and the audit log."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self) -> None:
        from accounts import checks, receivers  # noqa: F401  (registers the sign-on checks, the audit receivers)

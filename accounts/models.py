"""Identity rows: API tokens and the audit log."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """An API token: only a SHA-256 of its secret is kept, plus a short prefix people recognise it by."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    # Empty: the token may do everything its user may; else only what these scopes name.
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user})"

    def is_active(self, now=None) -> bool:
        """True if the token is neither revoked nor expired."""
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AuditEvent(models.Model):
    """One security-relevant event: a refusal, an admin change, a token made or revoked, a lockout."""

    REFUSED = "refused"
    ADMIN_ADDITION = "admin.addition"
    ADMIN_CHANGE = "admin.change"
    ADMIN_DELETION = "admin.deletion"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    LOCKOUT = "lockout"
    OPERATION = "operation"
    ACTIONS = [
        (REFUSED, _("permission refused")),
        (ADMIN_ADDITION, _("admin: added")),
        (ADMIN_CHANGE, _("admin: changed")),
        (ADMIN_DELETION, _("admin: deleted")),
        (TOKEN_CREATED, _("API token created")),
        (TOKEN_REVOKED, _("API token revoked")),
        (LOCKOUT, _("login locked out")),
        (OPERATION, _("instance operation")),
    ]

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("who"))
    # Kept as text too, so the row still says who after the user is deleted (or for an unknown login name).
    username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=ACTIONS, db_index=True)
    object = models.CharField(_("object"), max_length=300, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action} {self.object}"

"""Admin: API tokens (revoke only) and the audit log (read only, for superusers and auditors)."""

from django.contrib import admin
from django.contrib.admin import actions
from django.utils.translation import gettext_lazy as _

from accounts import audit, tokens
from accounts.models import ApiToken, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "action", "object", "detail", "address"]
    list_filter = ["action", "at"]
    search_fields = ["username", "object", "detail", "address"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    readonly_fields = ["user", "name", "prefix", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at"]
    exclude = ["digest"]
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # a secret is shown once, on the token page or by create_token

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke(self, request, queryset) -> None:
        for token in queryset.select_related("user"):
            tokens.revoke_token(token, by=request.user, address=audit.address_of(request))


@admin.action(permissions=["delete"], description=_("Delete selected %(verbose_name_plural)s"))
def delete_selected(modeladmin, request, queryset):
    """Django's bulk delete, plus one audit event per object deleted.

    Django logs a deletion of several objects with one bulk insert, which sends no
    post_save signal (one object is logged by a save, which the receiver sees).
    """
    doomed = [(obj.pk, str(obj)) for obj in queryset] if request.POST.get("post") else []
    response = actions.delete_selected(modeladmin, request, queryset)
    if response is None and len(doomed) > 1:
        label = f"{queryset.model._meta.app_label}.{queryset.model._meta.model_name}"
        for pk, text in doomed:
            audit.record(AuditEvent.ADMIN_DELETION, request.user, f"{label} {pk}: {text}",
                         address=audit.address_of(request))
    return response


admin.site.disable_action("delete_selected")
admin.site.add_action(delete_selected, "delete_selected")

"""The admin's view of what the ERP/CRM event watcher saw, for operators chasing an unmatched change."""

from django.contrib import admin

from integrations.models import ErpChange


@admin.register(ErpChange)
class ErpChangeAdmin(admin.ModelAdmin):
    list_display = ["seen_at", "watch", "number", "message", "outcome", "instances"]
    list_filter = ["outcome", "watch"]
    search_fields = ["number", "message"]

    def has_add_permission(self, request) -> bool:
        # The watcher writes these; a hand-made row would claim a change that never happened.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

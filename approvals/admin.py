"""Absences in the admin, checked as the Away page checks them."""

from django import forms
from django.contrib import admin
from django.db import transaction

from approvals import absences
from approvals.models import Absence


class AbsenceAdminForm(forms.ModelForm):
    class Meta:
        model = Absence
        fields = ["user", "substitute", "starts_on", "ends_on"]

    def _post_clean(self):
        super()._post_clean()
        if not self.errors:
            try:
                absences.check(self.instance)
            except forms.ValidationError as exc:
                self._update_errors(exc)


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    form = AbsenceAdminForm
    list_display = ["user", "substitute", "starts_on", "ends_on", "created_at"]
    list_filter = ["starts_on", "ends_on"]
    search_fields = ["user__username", "substitute__username"]
    raw_id_fields = ["user", "substitute"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            transaction.on_commit(lambda: absences.tell_substitute(obj))

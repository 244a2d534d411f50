from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    file = forms.FileField(label=_("BPMN file"))


class LaneRolesForm(forms.Form):
    """One role (group) per lane of a definition."""

    def __init__(self, *args, lanes: list[str], initial_roles: dict, **kwargs):
        super().__init__(*args, **kwargs)
        groups = Group.objects.order_by("name").values_list("name", flat=True)
        choices = [("", _("— no role —"))] + [(g, g) for g in groups]
        for i, lane in enumerate(lanes):
            self.fields[f"lane_{i}"] = forms.ChoiceField(
                label=lane, choices=choices, required=False, initial=initial_roles.get(lane, ""))
        self.lanes = lanes

    def roles(self) -> dict:
        return {lane: self.cleaned_data[f"lane_{i}"] for i, lane in enumerate(self.lanes)}


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

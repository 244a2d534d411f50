"""The form that makes an API token on the token page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.tokens import SCOPES
from approvals.permissions import startable_definitions


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("What the token is for, e.g. the system that uses it."))
    expires_days = forms.IntegerField(label=_("Expires after (days)"), min_value=1, max_value=3650, required=False,
                                      help_text=_("Leave empty for a token that does not expire."))
    scopes = forms.MultipleChoiceField(
        label=_("Allowed actions"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=list(SCOPES.items()),
        help_text=_("Tick none for a token that may do everything you may."))
    start_processes = forms.MultipleChoiceField(
        label=_("Start only these processes"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Instead of starting any process."))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(d.process_id, d.name or d.process_id) for d in startable_definitions(user)]
        if choices:
            self.fields["start_processes"].choices = choices
        else:
            del self.fields["start_processes"]  # nothing this user may start

    def chosen_scopes(self) -> list[str]:
        """The scopes ticked, a process-specific start scope for each process ticked."""
        scopes = list(self.cleaned_data["scopes"])
        scopes += [f"instances:start:{process_id}" for process_id in self.cleaned_data.get("start_processes", [])]
        return scopes

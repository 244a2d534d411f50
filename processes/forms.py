from copy import deepcopy

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from engine.runtime import InvalidVariables


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """One or several files, cleaned into a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".bpmn,.dmn,.xml"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)]


class UploadForm(forms.Form):
    file = MultipleFileField(label=_("BPMN file, and the DMN files it uses"))


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


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000)


class RetryForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)


def typed_value(text: str):
    """A value typed in a form, as the engine stores it: true/false, a number, empty, or the text itself."""
    stripped = text.strip()
    if stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    if stripped.lower() in ("", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(stripped)
        except ValueError:
            continue
    return text


class VariableRowsForm(forms.Form):
    """Name/value rows a person types instead of JSON; values are read by `typed_value`."""

    ROWS = 5

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(self.ROWS):
            self.fields[f"name_{i}"] = forms.CharField(label=_("Variable"), max_length=255, required=False)
            self.fields[f"value_{i}"] = forms.CharField(label=_("Value"), max_length=10000, required=False)

    def rows(self) -> list[tuple]:
        return [(self[f"name_{i}"], self[f"value_{i}"]) for i in range(self.ROWS)]

    def values(self) -> dict:
        """The rows with a name, as variables."""
        return {self.cleaned_data[f"name_{i}"].strip(): typed_value(self.cleaned_data[f"value_{i}"])
                for i in range(self.ROWS) if self.cleaned_data[f"name_{i}"].strip()}


class ResolveForm(VariableRowsForm):
    """Skip the failed step with the fields its result variable should have held, or cancel the instance.

    The rows are the fields of the call's result variable (`posting`), the known ones
    named already; a step with no result variable takes the rows as variables.
    """

    ROWS = 3

    action = forms.ChoiceField(label=_("Action"), choices=[("skip", _("Skip the step")),
                                                          ("cancel", _("Cancel the instance"))])
    comment = forms.CharField(label=_("Reason"), max_length=2000)

    def __init__(self, *args, result_variable: str = "", fields: list[str] | None = None, **kwargs):
        fields = fields or []
        self.ROWS = len(fields) + 2 if fields else type(self).ROWS
        super().__init__(*args, **kwargs)
        self.result_variable = result_variable
        for i, name in enumerate(fields):
            self.fields[f"name_{i}"].initial = name
        if result_variable:
            for i in range(self.ROWS):
                self.fields[f"name_{i}"].label = _("Field")

    def values(self) -> dict:
        """The output to skip with: the rows as the result variable's fields, else as variables."""
        rows = super().values()
        return {self.result_variable: rows} if self.result_variable else rows


class IncidentsActionForm(ResolveForm):
    """Retry, skip or cancel the incidents ticked on the incidents page; one reason for all."""

    action = forms.ChoiceField(choices=[("retry", _("Retry")), ("skip", _("Skip the step")),
                                        ("cancel", _("Cancel the instance"))], required=False)
    comment = None
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)

    def clean(self):
        data = super().clean()
        data["action"] = data.get("action") or "retry"
        if data["action"] in ("skip", "cancel") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give a reason to skip or cancel."))
        return data


class MoveTokenForm(forms.Form):
    """Where the tokens are taken away, where a new one starts, and why; picked on the diagram or in lists."""

    cancel = forms.MultipleChoiceField(label=_("Take the token away from"), required=False,
                                       widget=forms.CheckboxSelectMultiple)
    start_before = forms.ChoiceField(label=_("Start a token before"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=2000)
    # The instance's version the page showed: a move decided on tokens that have moved since is refused.
    seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, tokens: list[tuple[str, str]], elements: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cancel"].choices = tokens
        self.fields["start_before"].choices = [("", _("— nowhere —"))] + elements

    def clean(self):
        data = super().clean()
        if not data.get("cancel") and not data.get("start_before"):
            raise forms.ValidationError(_("Pick a token to take away, an element to start before, or both."))
        return data


class EditVariablesForm(VariableRowsForm):
    """New or changed variables as name/value rows, the ones to remove ticked, and why.

    A row named with a path (`customer.name`) changes one field of a record and keeps its others.
    """

    def __init__(self, *args, names: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unset"] = forms.MultipleChoiceField(
            label=_("Remove"), required=False, choices=[(n, n) for n in names], widget=forms.CheckboxSelectMultiple)
        self.fields["reason"] = forms.CharField(label=_("Reason"), max_length=2000)
        # The instance's version the page showed: an edit of values changed since is refused, not applied.
        self.fields["seen"] = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def changes(self, current: dict) -> dict:
        """The variables to set: plain rows as typed, path rows as the whole record with that field changed."""
        changed: dict = {}
        for name, value in self.values().items():
            head, _dot, rest = name.partition(".")
            if not rest or not head:
                changed[name] = value
                continue
            record = changed[head] if isinstance(changed.get(head), dict) else deepcopy(current.get(head, {}))
            changed[head] = _with_field(record, head, rest.split("."), value)
        return changed


def _with_field(record, where: str, path: list[str], value) -> dict:
    """`record` (the variable or field named `where`) with the field at `path` set to `value`."""
    if not isinstance(record, dict):
        # Turning a number or a text into a record would lose it: the person sets it whole instead.
        raise InvalidVariables(f"set.{where}.{'.'.join(path)}: {where} is no record with fields; set {where} itself")
    if len(path) == 1:
        return {**record, path[0]: value}
    return {**record, path[0]: _with_field(record.get(path[0], {}), f"{where}.{path[0]}", path[1:], value)}


class RolloutForm(forms.Form):
    """Which version new instances start on, and for what share of them."""

    version = forms.TypedChoiceField(label=_("Version"), coerce=int)
    # A slider; the page's script shows the share beside it as it moves.
    percent = forms.IntegerField(label=_("Share of new instances (%)"), min_value=0, max_value=100,
                                 widget=forms.NumberInput(attrs={"type": "range", "step": 1,
                                                                 "class": "rollout-percent"}))
    reason = forms.CharField(label=_("Reason"), max_length=2000)

    def __init__(self, *args, versions: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [(v, f"v{v}") for v in versions]


class MigrateForm(forms.Form):
    """Migrating to another version: the version, a target element picked for each element that waits, and why.

    `elements` are (element id, name) of the old version the operator may map;
    `targets` those of the chosen version. An element left on "same id" maps
    to the element of the same id.
    """

    SAME = ""

    to_version = forms.TypedChoiceField(label=_("Move to version"), coerce=int)
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)
    # The instance's version the dry run was made on (a single instance's migration).
    seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, versions: list[int], elements: list[tuple[str, str]],
                 targets: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_version"].choices = [(v, f"v{v}") for v in versions]
        choices = [(self.SAME, _("— same id —"))] + [(i, f"{name} ({i})" if name != i else i) for i, name in targets]
        self.elements = elements
        for index, (element_id, name) in enumerate(elements):
            self.fields[f"map_{index}"] = forms.ChoiceField(
                label=f"{name} ({element_id})" if name != element_id else element_id, choices=choices,
                required=False)

    def pickers(self) -> list:
        return [self[f"map_{index}"] for index in range(len(self.elements))]

    def mapping(self) -> dict[str, str]:
        """The picked targets, old element id → new element id; "same id" leaves an element out."""
        return {element_id: self.cleaned_data[f"map_{index}"] for index, (element_id, _name) in enumerate(self.elements)
                if self.cleaned_data.get(f"map_{index}")}

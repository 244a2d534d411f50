"""Django forms built from a task's Camunda form data, plus the inbox's small fixed forms.

A task's `form` is plain data (see `engine.runtime.form_definition`):
{"key": ..., "fields": [{"id", "label", "type", "default", "options", "validation", "properties"}]}.
The same form validates the web page and the REST API (`validate_submission`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from engine.runtime import InvalidVariables, check_variables, to_json

# `${total}` in a default means "the value of process variable total".
VARIABLE = re.compile(r"^\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}$")



class YesNoCheckbox(forms.CheckboxInput):
    """A checkbox that passes an unknown answer on, instead of reading any text as yes."""

    def value_from_datadict(self, data, files, name):
        if name not in data:
            return False
        value = data.get(name)
        if isinstance(value, str) and value.lower() not in YesNoField.ANSWERS:
            return value
        return super().value_from_datadict(data, files, name)


class YesNoField(forms.BooleanField):
    """A yes/no field: a ticked box, or over the API true/false; "maybe" is an error, not a yes."""

    ANSWERS = {"true": True, "on": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": False}
    widget = YesNoCheckbox

    def to_python(self, value):
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, str) and value.lower() in self.ANSWERS:
            return self.ANSWERS[value.lower()]
        raise ValidationError(_("Answer yes or no (true or false)."), code="invalid")

def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _number(value) -> float | None:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def default_value(field: dict, data: dict) -> Any:
    """The initial value of a field: a process variable when the default names one, else the literal."""
    default = field.get("default")
    if not isinstance(default, str) or not default:
        return default
    match = VARIABLE.match(default.strip())
    if match:
        return data.get(match.group(1))
    if default.isidentifier() and default in data:
        return data[default]
    return default


def make_field(field: dict, data: dict) -> forms.Field:
    """One Django form field for one Camunda form field."""
    kind = (field.get("type") or "string").lower()
    validation = field.get("validation") or {}
    properties = field.get("properties") or {}
    options = {
        "label": field.get("label") or field["id"],
        "required": "required" in validation,
        "initial": default_value(field, data),
        "disabled": "readonly" in validation,
        "help_text": properties.get("help", ""),
    }
    if kind in ("long", "integer", "int"):
        return forms.IntegerField(min_value=_int(validation.get("min")), max_value=_int(validation.get("max")),
                                  **options)
    if kind in ("number", "double", "float", "decimal"):
        return forms.FloatField(min_value=_number(validation.get("min")), max_value=_number(validation.get("max")),
                                **options)
    if kind == "boolean":
        # A checkbox always has an answer; "required" would mean "must be ticked".
        options["required"] = False
        initial = options["initial"]
        options["initial"] = initial if isinstance(initial, bool) else str(initial).lower() == "true"
        return YesNoField(**options)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
    if kind in ("enum", "choice"):
        choices = [(o["id"], o.get("name") or o["id"]) for o in field.get("options") or []]
        if not options["required"]:
            choices = [("", "—"), *choices]
        elif options["initial"] is None:
            choices = [("", _("Choose…")), *choices]
        return forms.ChoiceField(choices=choices, **options)
    widget = forms.Textarea(attrs={"rows": 3}) if kind == "text" else forms.TextInput
    return forms.CharField(min_length=_int(validation.get("minlength")), max_length=_int(validation.get("maxlength")),
                           widget=widget, **options)


class DynamicForm(forms.Form):
    """A form whose fields come from Camunda form data."""

    def __init__(self, fields: list[dict], variables: dict | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in fields:
            self.fields[field["id"]] = make_field(field, variables or {})

    def json_data(self) -> dict:
        """The cleaned values as JSON-safe data (dates become ISO strings)."""
        return to_json(self.cleaned_data)


def task_form(task, data=None) -> DynamicForm:
    """The (bound, if `data` is given) form of a human task; defaults come from its data."""
    return DynamicForm((task.form or {}).get("fields") or [], task.data or {}, data=data, prefix=None)


def validate_submission(task, data: Any) -> dict:
    """Check submitted data against the task's form; return cleaned, JSON-safe values.

    Raises ValidationError with a dict of field errors. A task without form
    fields takes any JSON object the engine can store.
    """
    if not isinstance(data, dict):
        raise ValidationError({"data": [_("The submitted data must be a JSON object.")]})
    fields = (task.form or {}).get("fields") or []
    if not fields:
        try:
            return check_variables(dict(data), "data")
        except InvalidVariables as exc:
            raise ValidationError({"data": [str(exc)]})
    known = {f["id"] for f in fields}
    # Only the form's fields: an approver must not overwrite other process variables.
    errors = {key: [_("This is not a field of this form.")] for key in data if key not in known}
    form = task_form(task, data)
    if not form.is_valid():
        errors.update({name: list(messages) for name, messages in form.errors.items()})
    if errors:
        raise ValidationError(errors)
    return form.json_data()


class DelegateForm(forms.Form):
    """Hand a task to another member of its role."""

    to_user = forms.ModelChoiceField(queryset=None, label=_("Delegate to"), empty_label=_("Choose a colleague…"))

    def __init__(self, candidates, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = candidates


class StartForm(forms.Form):
    """Business key plus either the start event's form or a JSON variables box."""

    business_key = forms.CharField(label=_("Business key"), max_length=255, required=False,
                                   help_text=_("Your reference for this case, e.g. the CRM quote number."))

    def __init__(self, start_fields: list[dict], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.start_fields = start_fields
        for field in start_fields:
            self.fields[field["id"]] = make_field(field, {})
        if not start_fields:
            self.fields["variables"] = forms.CharField(
                label=_("Variables (JSON object)"), required=False, initial="{}",
                widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
            )

    def clean_variables(self) -> dict:
        text = (self.cleaned_data.get("variables") or "").strip() or "{}"
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ValidationError(_("This is not valid JSON: %(error)s"), params={"error": exc})
        if not isinstance(value, dict):
            raise ValidationError(_("Enter a JSON object, like {\"amount\": 100}."))
        try:
            return check_variables(value)
        except InvalidVariables as exc:
            raise ValidationError(str(exc))

    def variables(self) -> dict:
        """The process variables to start with."""
        if not self.start_fields:
            return self.cleaned_data["variables"]
        return to_json({f["id"]: self.cleaned_data.get(f["id"]) for f in self.start_fields})


BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
# Keyed by pk and content hash: a rolled-back test (or a restored database) reuses pks.
_start_fields_cache: dict[tuple[int, str], list[dict]] = {}


def start_form_fields(definition) -> list[dict]:
    """The Camunda form fields of a process's plain start event, in the task form's shape."""
    key = (definition.pk, definition.content_hash)
    if key in _start_fields_cache:
        return _start_fields_cache[key]
    from engine.deploy import parse_xml

    root = parse_xml(definition.bpmn_xml.encode()).getroot()
    fields: list[dict] = []
    for process in root.iter(f"{BPMN}process"):
        if process.get("id") != definition.process_id:
            continue
        for event in process.findall(f"{BPMN}startEvent"):
            if any(child.tag.endswith("EventDefinition") for child in event):
                continue  # message and timer starts are not started by hand
            for node in event.iterfind(f"{BPMN}extensionElements/{CAMUNDA}formData/{CAMUNDA}formField"):
                fields.append({
                    "id": node.get("id"),
                    "label": node.get("label") or node.get("id"),
                    "type": node.get("type") or "string",
                    "default": node.get("defaultValue"),
                    "options": [{"id": v.get("id"), "name": v.get("name")} for v in node.iterfind(f"{CAMUNDA}value")],
                    "validation": {c.get("name"): c.get("config")
                                   for c in node.iterfind(f"{CAMUNDA}validation/{CAMUNDA}constraint")},
                    "properties": {p.get("id"): p.get("value")
                                   for p in node.iterfind(f"{CAMUNDA}properties/{CAMUNDA}property")},
                })
            break
    _start_fields_cache[key] = fields
    return fields


class DateInput(forms.DateInput):
    """The browser's own date picker."""

    input_type = "date"


class AbsenceForm(forms.Form):
    """Going away: the first and last day, and the colleague who stands in meanwhile."""

    starts_on = forms.DateField(label=_("First day away"), widget=DateInput)
    ends_on = forms.DateField(label=_("Last day away"), widget=DateInput)
    substitute = forms.ModelChoiceField(queryset=None, label=_("Who stands in for you"),
                                        empty_label=_("Choose a colleague…"),
                                        help_text=_("Only colleagues who work in one of your lanes."))

    def __init__(self, choices, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["substitute"].queryset = choices
        self.fields["substitute"].label_from_instance = lambda user: (
            f"{user.get_full_name()} ({user.get_username()})" if user.get_full_name() else user.get_username())

"""Django forms built from a task's Camunda form data, plus the inbox's small fixed forms.

A task's `form` is plain data (see `engine.runtime.form_definition`):
{"key": ..., "fields": [{"id", "label", "type", "default", "options", "validation", "properties"}]}.
The same form validates the web page and the REST API (`validate_submission`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from approvals.options import OptionsUnavailable, load_options, options_operation
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

class Picker(forms.Select):
    """A select whose options the page's script loads from `data-options-url`; keeps the chosen id meanwhile."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["data-selected"] = "" if value is None else str(value)
        return context


class PickedField(forms.CharField):
    """The id of an option from another system's list; the start form checks it against that list."""

    widget = Picker

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.widget.choices = [("", _("Choose…"))]


class LinesWidget(forms.Widget):
    """Order lines as rows `<name>-<n>-product|quantity|unit_price`, added and removed by the page's script."""

    template_name = "approvals/widgets/lines.html"
    COLUMNS = ("product", "quantity", "unit_price")

    def value_from_datadict(self, data, files, name):
        value = data.get(name) if not hasattr(data, "getlist") else None
        if isinstance(value, list):
            return value  # the REST API sends the lines themselves
        pattern = re.compile(rf"^{re.escape(name)}-(\d+)-({'|'.join(self.COLUMNS)})$")
        rows: dict[int, dict] = {}
        for key in data:
            match = pattern.match(key)
            if match:
                rows.setdefault(int(match.group(1)), {})[match.group(2)] = data.get(key)
        # A row left empty is a row the user did not fill, not an error.
        return [rows[i] for i in sorted(rows) if any(str(v or "").strip() for v in rows[i].values())]

    def value_omitted_from_data(self, data, files, name):
        return False

    def format_value(self, value):
        return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        # A new form shows one empty line to fill.
        context["widget"]["rows"] = context["widget"]["value"] or [{}]
        return context


def _decimal(value) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


class LinesField(forms.Field):
    """Order lines: a product (picked), a quantity above 0 and a unit price of 0 or more per line."""

    widget = LinesWidget
    MAX_LINES = 200
    # Beyond any real order; keeps 1e400 out of the process variables.
    MAX_AMOUNT = Decimal("1e12")

    def to_python(self, value):
        if value in (None, ""):
            return []
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            raise ValidationError(_("Send the lines as a list of objects."), code="invalid")
        if len(value) > self.MAX_LINES:
            raise ValidationError(_("At most %(count)d lines."), params={"count": self.MAX_LINES}, code="invalid")
        lines, errors = [], []
        for number, row in enumerate(value, start=1):
            product = str(row.get("product") or "").strip()
            quantity, price = _decimal(row.get("quantity")), _decimal(row.get("unit_price"))
            if not product:
                errors.append(_("Line %(n)d: choose a product.") % {"n": number})
            if quantity is None or not 0 < quantity <= self.MAX_AMOUNT:
                errors.append(_("Line %(n)d: the quantity must be a number above 0.") % {"n": number})
            if price is None or not 0 <= price <= self.MAX_AMOUNT:
                errors.append(_("Line %(n)d: the unit price must be a number, 0 or more.") % {"n": number})
            if not errors:
                lines.append({"product": product,
                              "quantity": int(quantity) if quantity == quantity.to_integral() else float(quantity),
                              "unit_price": format(price, "f")})
        if errors:
            raise ValidationError(errors, code="invalid")
        return lines

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(_("Add at least one line."), code="required")


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
    # A diagram may label a field per language: <camunda:property id="label:zh-hans" value="客户" />.
    language = (translation.get_language() or "").lower()
    options = {
        "label": properties.get(f"label:{language}") or field.get("label") or field["id"],
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
    if kind == "lines":
        return LinesField(**options)
    if options_operation(field):
        return PickedField(**options)
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
    """A form whose fields come from Camunda form data: a start event's or a user task's, built the same way.

    Pickers get the URL their options load from, and are checked against their lists on submit.
    """

    def __init__(self, fields: list[dict], variables: dict | None = None, *args, options_url=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.camunda_fields = fields
        for field in fields:
            self.fields[field["id"]] = make_field(field, variables or {})
            if options_operation(field) and options_url is not None:
                self.fields[field["id"]].widget.attrs["data-options-url"] = options_url(field["id"])

    def clean(self) -> dict:
        cleaned = super().clean()
        lists: dict[str, dict] = {}
        for field in self.camunda_fields:
            name, value = options_operation(field), cleaned.get(field["id"])
            if not name or value in (None, "", []):
                continue
            try:
                if name not in lists:
                    lists[name] = {option["id"]: option for option in load_options(name)}
            except OptionsUnavailable as exc:
                self.add_error(field["id"], str(exc))
                continue
            options = lists[name]
            if isinstance(value, list):
                for number, line in enumerate(value, start=1):
                    if line["product"] in options:
                        continue
                    product = line["product"]
                    self.add_error(field["id"], _("Line %(n)d: “%(product)s” is not one of the listed products.")
                                   % {"n": number, "product": product})
            elif value not in options:
                self.add_error(field["id"], _("Choose one of the listed options."))
            else:
                # The option's record (a customer with its address), when the list gives one.
                cleaned[field["id"]] = options[value].get("value", value)
        return cleaned

    def json_data(self) -> dict:
        """The cleaned values of the Camunda fields as JSON-safe data (dates become ISO strings)."""
        return to_json({f["id"]: self.cleaned_data.get(f["id"]) for f in self.camunda_fields})


def task_form(task, data=None, options_url=None) -> DynamicForm:
    """The (bound, if `data` is given) form of a human task; defaults come from its data."""
    return DynamicForm((task.form or {}).get("fields") or [], task.data or {}, data=data, prefix=None,
                       options_url=options_url)


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


class StartForm(DynamicForm):
    """Business key plus the start event's form."""

    business_key = forms.CharField(label=_("Business key"), max_length=255, required=False,
                                   help_text=_("Your reference for this case, e.g. the CRM quote number."))

    def __init__(self, start_fields: list[dict], *args, options_url=None, **kwargs):
        super().__init__(start_fields, {}, *args, options_url=options_url, **kwargs)

    def variables(self) -> dict:
        """The process variables to start with."""
        return self.json_data()


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

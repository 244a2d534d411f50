"""Django's template engine, made safe for text that UTF-8 cannot encode."""

from django.template.backends.django import DjangoTemplates, Template
from django.utils.safestring import mark_safe


class PrintableTemplate(Template):
    """A template whose output shows a lone surrogate (half a UTF-16 pair) as `\\ud800`.

    Such text cannot be typed into a form and the API refuses it, but a
    connector's answer or an older row may hold one; without this, encoding
    the page fails and every page showing that value answers 500.
    """

    def render(self, context=None, request=None):
        text = super().render(context, request)
        try:
            text.encode()
        except UnicodeEncodeError:
            # A backslash escape adds no markup, so the page stays as safe as it was.
            return mark_safe(text.encode("utf-8", "backslashreplace").decode())
        return text


class Templates(DjangoTemplates):
    """The DjangoTemplates backend, giving PrintableTemplates."""

    def from_string(self, template_code):
        return PrintableTemplate(self.engine.from_string(template_code), self)

    def get_template(self, template_name):
        return PrintableTemplate(super().get_template(template_name).template, self)

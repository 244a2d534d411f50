"""`seconds|duration`: a time span as a manager reads it ("1 d 21 h", "3 h 12 min", "45 s")."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """The two largest units of a span of seconds; empty for None."""
    if seconds is None or seconds == "":
        return ""
    left = int(round(float(seconds)))
    if left < 60:
        return _("%(n)d s") % {"n": left}
    days, left = divmod(left, 86400)
    hours, left = divmod(left, 3600)
    minutes = left // 60
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}

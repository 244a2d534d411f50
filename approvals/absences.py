"""Going away: who may stand in for a user, naming them for some days, ending it early, telling them."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from approvals.models import Absence, UserPreference
from approvals.permissions import covered_tasks, today
from engine.models import ProcessDefinition

log = logging.getLogger(__name__)


def lane_roles() -> set[str]:
    """Names of the groups that deployed processes map their lanes to."""
    names: set[str] = set()
    for roles in ProcessDefinition.objects.values_list("lane_roles", flat=True):
        names.update(role for role in (roles or {}).values() if role)
    return names


def substitute_choices(user) -> QuerySet:
    """Who may stand in for `user`: active colleagues who hold one of the lane roles `user` holds."""
    shared = user.groups.filter(name__in=lane_roles())
    return (get_user_model().objects.filter(is_active=True, groups__in=shared).exclude(pk=user.pk)
            .distinct().order_by("username"))


def check(absence: Absence, on: date | None = None) -> None:
    """Refuse an absence that would let the wrong person act; ValidationError names the field."""
    on = on or today()
    if absence.ends_on < absence.starts_on:
        raise ValidationError({"ends_on": _("The last day is before the first day.")})
    if absence.pk is None and absence.ends_on < on:
        raise ValidationError({"ends_on": _("The last day has already passed.")})
    if absence.substitute_id == absence.user_id:
        raise ValidationError({"substitute": _("Name someone else to stand in for you.")})
    if not substitute_choices(absence.user).filter(pk=absence.substitute_id).exists():
        raise ValidationError({"substitute": _(
            "%(substitute)s does not work in any lane of %(user)s, so cannot stand in for them.") % {
            "substitute": absence.substitute, "user": absence.user}})
    overlapping = Absence.objects.filter(user=absence.user_id, starts_on__lte=absence.ends_on,
                                         ends_on__gte=absence.starts_on).exclude(pk=absence.pk).first()
    if overlapping:
        raise ValidationError({"starts_on": _(
            "%(user)s is already away from %(first)s to %(last)s; end that absence first.") % {
            "user": absence.user, "first": overlapping.starts_on, "last": overlapping.ends_on}})


def add_absence(user, substitute, starts_on: date, ends_on: date) -> Absence:
    """Record that `user` is away and `substitute` stands in, after `check`; the substitute hears of it."""
    absence = Absence(user=user, substitute=substitute, starts_on=starts_on, ends_on=ends_on)
    check(absence)
    absence.save()
    transaction.on_commit(lambda: tell_substitute(absence))
    return absence


def end_absence(absence: Absence, on: date | None = None) -> None:
    """Stop an absence now: one that has begun ends yesterday, one still to come is removed."""
    on = on or today()
    if absence.starts_on < on:
        absence.ends_on = min(absence.ends_on, on - timedelta(days=1))
        absence.save(update_fields=["ends_on"])
    else:
        absence.delete()


def current_and_coming(queryset: QuerySet, on: date | None = None) -> QuerySet:
    """The absences of `queryset` that have not ended by day `on` (today)."""
    return queryset.filter(ends_on__gte=on or today()).select_related("user", "substitute")


def tell_substitute(absence: Absence) -> bool:
    """Email the substitute that they stand in, when, and how many tasks wait now; False if it could not go."""
    substitute = absence.substitute
    if not substitute.email:
        return False
    waiting = covered_tasks([absence.user]).count() if absence.starts_on <= today() else 0
    base = settings.LANEBRIDGE_BASE_URL
    preference = UserPreference.objects.filter(user=substitute).values_list("language", flat=True).first()
    with translation.override(preference or settings.LANGUAGE_CODE):
        subject = _("You stand in for %(user)s from %(first)s to %(last)s") % {
            "user": absence.user, "first": absence.starts_on, "last": absence.ends_on}
        body = render_to_string("approvals/email/standing_in.txt", {
            "absence": absence, "waiting": waiting, "inbox_url": base + reverse("approvals:inbox") + "?tab=standin"})
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [substitute.email])
    except Exception:  # noqa: BLE001 - the absence stands; a mail server down must not undo it
        log.exception("could not tell %s about standing in", substitute.username)
        return False
    return True

"""A user away names a substitute: for those days only, and only for that user's tasks, the substitute acts for them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from approvals import absences, permissions, services
from approvals.models import Absence, TaskNotification
from approvals.notifications import send_pending_notifications
from engine import runtime
from engine.models import HistoryEvent, HumanTask

from .conftest import LARGE_LINES

FIRST, LAST = date(2031, 3, 10), date(2031, 3, 12)


@pytest.fixture
def clock(monkeypatch):
    """Set the day: noon of it in the site's time zone is `timezone.now()` until the test ends."""

    def set_day(day: date) -> None:
        moment = datetime.combine(day, time(12), tzinfo=timezone.get_current_timezone())
        monkeypatch.setattr(timezone, "now", lambda: moment)

    set_day(FIRST - timedelta(days=5))
    return set_day


@pytest.fixture
def people(make_user) -> dict:
    """bob manages and sells, and is the only manager; carol and dave sell; fay is in finance."""
    return {
        "bob": make_user("bob", "Manager", "Sales"),
        "carol": make_user("carol", "Sales"),
        "dave": make_user("dave", "Sales"),
        "fay": make_user("fay", "Finance"),
    }


@pytest.fixture
def approval(quote_process, people, clock) -> HumanTask:
    """A large quote waiting for the manager's approval, unclaimed."""
    instance, _ = runtime.start_instance("quote_approval", {"customer": "Globex", "lines": LARGE_LINES},
                                         business_key="Q-42", user=people["dave"])
    return instance.human_tasks.get(state=HumanTask.OPEN)


@pytest.fixture
def away(people, clock, quote_process) -> Absence:
    """bob is away from FIRST to LAST, carol stands in; planned days before."""
    return absences.add_absence(people["bob"], people["carol"], FIRST, LAST)


def test_a_task_assigned_to_the_absent_user_reaches_the_substitute_only_during_the_period(
        client, approval, away, people, clock):
    services.claim_task(approval, people["bob"])
    carol = people["carol"]
    seen = {}
    for day in (FIRST - timedelta(days=1), FIRST, LAST, LAST + timedelta(days=1)):
        clock(day)
        client.force_login(carol)
        response = client.get("/?tab=standin")
        seen[day] = (permissions.can_act(carol, approval),
                     [t.pk for t in response.context["page"].object_list] if "standin" in response.context["counts"]
                     else None)
    assert seen == {
        FIRST - timedelta(days=1): (False, None),
        FIRST: (True, [approval.pk]),
        LAST: (True, [approval.pk]),
        LAST + timedelta(days=1): (False, None),
    }


def test_after_the_period_the_substitute_can_no_longer_complete_it(approval, away, people, clock):
    services.claim_task(approval, people["bob"])
    clock(LAST + timedelta(days=1))
    with pytest.raises(services.NotAllowed):
        services.complete_task(approval, people["carol"], {"decision": "approve"})
    assert HumanTask.objects.get(pk=approval.pk).state == HumanTask.OPEN


def test_a_colleague_who_is_not_the_substitute_is_refused(client, api_as, approval, away, people, clock):
    services.claim_task(approval, people["bob"])
    clock(FIRST)
    dave = people["dave"]
    assert not permissions.can_act(dave, approval)
    client.force_login(dave)
    assert client.post(f"/tasks/{approval.pk}/complete/", {"decision": "approve"}).status_code == 403
    assert api_as(dave).post(f"/api/v1/tasks/{approval.pk}/complete/", {"data": {"decision": "approve"}},
                             format="json").status_code == 403
    assert HumanTask.objects.get(pk=approval.pk).state == HumanTask.OPEN


def test_the_substitute_acts_only_for_the_absent_users_tasks(quote_process, approval, away, people, make_user, clock):
    # Another manager's claimed task does not reach carol: she stands in for bob only.
    erin = make_user("erin", "Manager")
    services.claim_task(approval, erin)
    clock(FIRST)
    assert not permissions.can_act(people["carol"], approval)
    assert list(permissions.stand_in_tasks(people["carol"])) == []


def test_completing_for_the_absent_user_is_recorded_on_their_behalf(client, approval, away, people, clock):
    services.claim_task(approval, people["bob"])
    clock(FIRST)
    client.force_login(people["carol"])
    response = client.post(f"/tasks/{approval.pk}/complete/", {"decision": "approve", "comment": "for bob"})
    assert response.status_code == 302

    task = HumanTask.objects.get(pk=approval.pk)
    assert (task.state, task.completed_by, task.on_behalf_of) == (HumanTask.COMPLETED, people["carol"], people["bob"])
    event = HistoryEvent.objects.get(instance=task.instance, kind=HistoryEvent.TASK_COMPLETED)
    assert (event.user, event.data["on_behalf_of"]) == (people["carol"], "bob")

    # The task's record and the instance's history both say it.
    task_page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "Completed by carol on behalf of bob" in task_page
    client.force_login(people["bob"])
    instance_page = client.get(f"/processes/instances/{task.instance_id}/").content.decode()
    assert "carol on behalf of bob" in instance_page


def test_the_history_says_it_in_chinese_too(client, approval, away, people, clock):
    services.claim_task(approval, people["bob"])
    clock(FIRST)
    services.complete_task(approval, people["carol"], {"decision": "approve"})
    client.force_login(people["bob"])
    page = client.get(f"/processes/instances/{approval.instance_id}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content
    assert "carol 代 bob 办理".encode() in page


def test_an_unclaimed_task_of_a_role_only_the_absent_user_holds_reaches_the_substitute(
        approval, away, people, clock):
    clock(FIRST)
    carol = people["carol"]
    assert list(permissions.stand_in_tasks(carol)) == [approval]
    # Claiming takes it for bob, so it stays his when he is back.
    services.claim_task(approval, carol)
    assert HumanTask.objects.get(pk=approval.pk).assignee == people["bob"]
    claimed = HistoryEvent.objects.get(instance=approval.instance, kind=HistoryEvent.TASK_CLAIMED)
    assert (claimed.user, claimed.data) == (carol, {"on_behalf_of": "bob"})
    services.complete_task(approval, carol, {"decision": "reject"})
    assert HumanTask.objects.get(pk=approval.pk).on_behalf_of == people["bob"]


def test_unclaimed_tasks_of_a_role_others_also_hold_stay_with_them(approval, away, people, make_user, clock):
    make_user("erin", "Manager")
    clock(FIRST)
    assert not permissions.can_act(people["carol"], approval)
    assert list(permissions.stand_in_tasks(people["carol"])) == []


def test_a_substitutes_own_queue_is_unchanged(client, quote_process, away, people, clock):
    clock(FIRST)
    instance, _ = runtime.start_instance("quote_approval", {"customer": "Initech", "lines": [
        {"product": "Valve", "qty": 1, "price": 10}]}, business_key="Q-small", user=people["dave"])
    follow_up = instance.human_tasks.get()
    client.force_login(people["carol"])
    response = client.get("/?tab=queue")
    assert [t.pk for t in response.context["page"].object_list] == [follow_up.pk]


def test_the_substitute_hears_of_a_new_task_of_the_absent_user(quote_process, away, people, clock):
    clock(FIRST)
    instance, _ = runtime.start_instance("quote_approval", {"customer": "Globex", "lines": LARGE_LINES},
                                         business_key="Q-43", user=people["dave"])
    task = instance.human_tasks.get()
    assert set(TaskNotification.objects.filter(task=task).values_list("user__username", flat=True)) == {
        "bob", "carol"}
    mail.outbox.clear()
    send_pending_notifications(timezone.now())
    carols = [m for m in mail.outbox if m.to == ["carol@example.com"]]
    assert len(carols) == 1 and "Approve quote" in carols[0].body


def test_no_new_task_email_for_the_substitute_outside_the_period(quote_process, away, people, clock):
    clock(LAST + timedelta(days=1))
    instance, _ = runtime.start_instance("quote_approval", {"customer": "Globex", "lines": LARGE_LINES},
                                         business_key="Q-44", user=people["dave"])
    users = TaskNotification.objects.filter(task=instance.human_tasks.get()).values_list("user__username", flat=True)
    assert list(users) == ["bob"]


def test_the_task_list_api_gives_the_substitute_the_absent_users_tasks_during_the_period(
        api_as, approval, away, people, clock):
    services.claim_task(approval, people["bob"])
    for day, expected in ((FIRST, [approval.pk]), (LAST + timedelta(days=1), [])):
        clock(day)
        rows = api_as(people["carol"]).get("/api/v1/tasks/").json()["results"]
        assert [row["id"] for row in rows if row["name"] == "Approve quote"] == expected


def test_naming_a_substitute_on_the_away_page_saves_it_and_emails_them(
        client, quote_process, people, clock, django_capture_on_commit_callbacks):
    client.force_login(people["bob"])
    page = client.get("/accounts/away/")
    assert page.status_code == 200
    # Only colleagues from bob's lanes (Manager, Sales) can be picked.
    assert list(page.context["form"].fields["substitute"].queryset) == [people["carol"], people["dave"]]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/away/", {"starts_on": "2031-03-10", "ends_on": "2031-03-12",
                                                   "substitute": people["carol"].pk})
    assert response.status_code == 302
    absence = Absence.objects.get()
    assert (absence.user, absence.substitute, absence.starts_on, absence.ends_on) == (
        people["bob"], people["carol"], FIRST, LAST)
    assert [m.to for m in mail.outbox] == [["carol@example.com"]]
    assert "bob" in mail.outbox[0].subject and "2031-03-10" in mail.outbox[0].subject


@pytest.mark.parametrize("post, field", [
    ({"starts_on": "2031-03-12", "ends_on": "2031-03-10"}, "ends_on"),
    ({"starts_on": "2031-02-01", "ends_on": "2031-02-02"}, "ends_on"),  # already over
    ({"starts_on": "2031-03-10", "ends_on": "not a day"}, "ends_on"),
])
def test_the_away_page_refuses_bad_dates_naming_the_field(client, quote_process, people, clock, post, field):
    client.force_login(people["bob"])
    response = client.post("/accounts/away/", {**post, "substitute": people["carol"].pk})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Absence.objects.exists()


def test_the_away_page_refuses_someone_outside_the_users_lanes(client, quote_process, people, clock):
    client.force_login(people["bob"])
    response = client.post("/accounts/away/", {"starts_on": "2031-03-10", "ends_on": "2031-03-12",
                                               "substitute": people["fay"].pk})
    assert response.status_code == 400
    assert "substitute" in response.context["form"].errors
    # The rule holds in the function too, for the admin and any other caller.
    with pytest.raises(ValidationError) as refused:
        absences.add_absence(people["bob"], people["fay"], FIRST, LAST)
    assert "substitute" in refused.value.message_dict
    assert not Absence.objects.exists()


def test_an_overlapping_absence_is_refused(away, people, clock):
    with pytest.raises(ValidationError) as refused:
        absences.add_absence(people["bob"], people["dave"], LAST, LAST + timedelta(days=3))
    assert "starts_on" in refused.value.message_dict


def test_coming_back_early_stops_the_substitute_at_once(client, approval, away, people, clock):
    services.claim_task(approval, people["bob"])
    clock(FIRST + timedelta(days=1))
    assert permissions.can_act(people["carol"], approval)
    client.force_login(people["bob"])
    assert client.post(f"/accounts/away/{away.pk}/end/").status_code == 302
    assert Absence.objects.get().ends_on == FIRST
    assert not permissions.can_act(people["carol"], approval)


def test_only_the_absent_user_can_end_their_absence(client, away, people, clock):
    client.force_login(people["carol"])
    assert client.post(f"/accounts/away/{away.pk}/end/").status_code == 403
    assert Absence.objects.get().ends_on == LAST


def test_the_admin_checks_an_absence_as_the_page_does(client, quote_process, people, make_user, clock):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    form = {"user": people["bob"].pk, "substitute": people["fay"].pk, "starts_on": "2031-03-10",
            "ends_on": "2031-03-12"}
    response = client.post("/admin/approvals/absence/add/", form)
    assert response.status_code == 200 and "substitute" in response.context["adminform"].form.errors
    response = client.post("/admin/approvals/absence/add/", {**form, "substitute": people["carol"].pk})
    assert response.status_code == 302
    assert Absence.objects.get().substitute == people["carol"]


def test_the_away_page_is_in_chinese(client, quote_process, people, clock):
    client.force_login(people["bob"])
    page = client.get("/accounts/away/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "休假代理" in page and "代理人" in page


def test_the_task_page_tells_the_substitute_they_act_for_the_absent_user(client, approval, away, people, clock):
    services.claim_task(approval, people["bob"])
    clock(FIRST)
    client.force_login(people["carol"])
    response = client.get(f"/tasks/{approval.pk}/")
    assert response.context["acting_for"] == people["bob"]
    page = response.content.decode()
    assert "bob is away and you stand in" in page
    # bob's claim is carol's to give back, not to take again.
    assert "Give back to the queue" in page and 'id="claim"' not in page
    client.force_login(people["dave"])
    assert client.get(f"/tasks/{approval.pk}/").status_code == 403

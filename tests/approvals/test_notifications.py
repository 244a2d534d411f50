"""New-task emails: one row per candidate at once, one email per user per batch."""

from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from approvals import services
from approvals.models import TaskNotification
from approvals.notifications import send_pending_notifications

from .conftest import SMALL_LINES


def test_a_new_task_queues_a_notification_for_each_candidate(start_quote, demo_users, make_user):
    make_user("manager2", "Manager")
    task = start_quote()
    rows = TaskNotification.objects.filter(task=task)
    assert sorted(r.user.username for r in rows) == ["manager", "manager2"]
    assert all(r.sent_at is None for r in rows)
    assert len(mail.outbox) == 0  # nothing is sent inside the engine's transaction


def test_one_email_per_user_lists_all_their_tasks(start_quote, demo_users):
    for i in range(3):
        start_quote(business_key=f"Q-{i}")
    assert send_pending_notifications(timezone.now()) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["manager@example.com"]
    assert "3 new tasks" in message.subject
    assert message.body.count("Approve quote") == 3
    assert "/tasks/" in message.body


def test_the_email_links_by_absolute_url_that_opens_from_a_mail_client(start_quote, demo_users, settings):
    settings.LANEBRIDGE_BASE_URL = "https://flow.example.com"
    task = start_quote()

    send_pending_notifications(timezone.now())

    assert f"https://flow.example.com/tasks/{task.pk}/" in mail.outbox[0].body
    assert "https://flow.example.com/\n" in mail.outbox[0].body  # the inbox


def test_a_second_run_sends_nothing_new(start_quote, demo_users):
    start_quote()
    send_pending_notifications(timezone.now())
    assert send_pending_notifications(timezone.now()) == 0
    assert len(mail.outbox) == 1
    assert not TaskNotification.objects.filter(sent_at=None).exists()


def test_tasks_done_before_the_batch_are_left_out(start_quote, demo_users):
    task = start_quote()
    services.complete_task(task, demo_users["manager"], {"decision": "approve"})
    send_pending_notifications(timezone.now())
    # The manager's only task is done; sales gets the follow-up.
    assert [m.to for m in mail.outbox] == [["sales@example.com"]]
    assert "Follow up with customer" in mail.outbox[0].body


def test_users_without_email_are_skipped(start_quote, demo_users):
    demo_users["sales"].email = ""
    demo_users["sales"].save()
    start_quote(lines=SMALL_LINES)
    assert send_pending_notifications(timezone.now()) == 0


def test_the_command_sends_the_batch(start_quote, demo_users, capsys):
    start_quote()
    call_command("send_task_notifications")
    assert len(mail.outbox) == 1
    assert "Sent 1 email" in capsys.readouterr().out


def test_the_email_is_in_the_language_the_user_chose(start_quote, demo_users):
    from django.contrib.auth.models import User

    from approvals.models import UserPreference

    UserPreference.objects.create(user=User.objects.get(username="manager"), language="zh-hans")
    start_quote()
    send_pending_notifications(timezone.now())
    (message,) = mail.outbox
    assert "Lanebridge" in message.subject and "new task" not in message.subject


def test_a_task_for_several_groups_reaches_each_member_once(db, make_user):
    from approvals.permissions import can_act
    from engine.deploy import deploy
    from engine.models import HumanTask
    from engine.runtime import start_instance
    from tests.engine import bpmn

    both = make_user("both", "Manager", "Finance")
    manager, finance = make_user("manager", "Manager"), make_user("finance", "Finance")
    sales = make_user("sales", "Sales")
    task_xml = '    <bpmn:userTask id="check" name="Check" camunda:candidateGroups="Manager, Finance" />\n'
    deploy(bpmn.chain("checking", task_xml), "checking.bpmn")

    instance, _ = start_instance("checking", {})

    task = HumanTask.objects.get(instance=instance)
    assert sorted(TaskNotification.objects.filter(task=task).values_list("user__username", flat=True)) == [
        "both", "finance", "manager"]
    assert [can_act(u, task) for u in (both, manager, finance, sales)] == [True, True, True, False]

"""The inbox: my tasks and my roles' queue, only open tasks of my lanes, sorted, filtered, paged."""

from datetime import timedelta

from django.utils import timezone

from approvals import services
from engine.models import HumanTask

from .conftest import SMALL_LINES


def test_it_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_the_queue_of_my_role(client, start_quote, demo_users):
    task = start_quote()
    client.force_login(demo_users["manager"])
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["tab"] == "queue"
    assert response.context["counts"] == {"mine": 0, "queue": 1}
    assert list(response.context["page"].object_list) == [task]
    assert b"Approve quote" in response.content


def test_it_hides_other_lanes_tasks(client, start_quote, demo_users):
    start_quote()
    client.force_login(demo_users["finance"])
    response = client.get("/?tab=queue")
    assert response.context["counts"] == {"mine": 0, "queue": 0}
    assert b"Approve quote" not in response.content


def test_claimed_task_moves_to_assigned_to_me(client, start_quote, demo_users):
    task = start_quote()
    services.claim_task(task, demo_users["manager"])
    client.force_login(demo_users["manager"])
    response = client.get("/")
    assert response.context["tab"] == "mine"
    assert response.context["counts"] == {"mine": 1, "queue": 0}
    assert list(response.context["page"].object_list) == [task]


def test_it_lists_only_open_tasks(client, start_quote, demo_users):
    task = start_quote()
    services.complete_task(task, demo_users["manager"], {"decision": "approve"})
    client.force_login(demo_users["manager"])
    response = client.get("/?tab=queue")
    assert response.context["counts"]["queue"] == 0


def test_it_sorts_by_due_date_priority_and_age(client, start_quote, demo_users):
    first = start_quote(business_key="A")
    second = start_quote(business_key="B")
    HumanTask.objects.filter(pk=first.pk).update(due_at=timezone.now() + timedelta(days=2), priority=90)
    HumanTask.objects.filter(pk=second.pk).update(due_at=timezone.now() + timedelta(days=1), priority=10)
    client.force_login(demo_users["manager"])

    def order(sort):
        return [t.pk for t in client.get(f"/?tab=queue&sort={sort}").context["page"].object_list]

    assert order("due") == [second.pk, first.pk]
    assert order("priority") == [first.pk, second.pk]
    assert order("age") == [first.pk, second.pk]


def test_it_highlights_overdue_tasks(client, start_quote, demo_users):
    task = start_quote()
    HumanTask.objects.filter(pk=task.pk).update(due_at=timezone.now() - timedelta(hours=1))
    client.force_login(demo_users["manager"])
    response = client.get("/?tab=queue")
    assert b'class="overdue"' in response.content


def test_it_filters_by_process(client, start_quote, deploy_file, demo_users, make_user):
    start_quote()
    client.force_login(demo_users["manager"])
    assert client.get("/?tab=queue&process=quote_approval").context["counts"]["queue"] == 1
    assert client.get("/?tab=queue&process=typed_form").context["counts"]["queue"] == 0


def test_it_paginates(client, start_quote, demo_users):
    for i in range(27):
        start_quote(lines=SMALL_LINES, business_key=f"Q-{i}")
    client.force_login(demo_users["sales"])
    first = client.get("/?tab=queue")
    assert first.context["counts"]["queue"] == 27
    assert len(first.context["page"].object_list) == 25
    second = client.get("/?tab=queue&page=2")
    assert len(second.context["page"].object_list) == 2
    assert client.get("/?tab=queue&page=99").context["page"].number == 2


def test_inbox_queries_do_not_grow_with_the_page(client, start_quote, demo_users, django_assert_max_num_queries):
    for i in range(5):
        start_quote(lines=SMALL_LINES, business_key=f"Q-{i}")
    client.force_login(demo_users["sales"])
    with django_assert_max_num_queries(11):
        client.get("/?tab=queue")


def test_it_speaks_simplified_chinese_when_chosen(client, start_quote, demo_users, settings):
    from django.core.management import call_command

    # The .mo is built at set-up and git-ignored; build it here too so the test stands alone.
    call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "node_modules"], verbosity=0)
    start_quote()
    client.force_login(demo_users["manager"])
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    body = client.get("/").content.decode()
    assert '<meta charset="utf-8">' in body
    assert "我的角色队列" in body and "收件箱" in body
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "My roles' queue" in client.get("/").content.decode()

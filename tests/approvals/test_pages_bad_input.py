"""Every page, asked with garbage query strings or posted garbage forms by every demo role, never answers 500."""

import pytest
from django.conf import settings

from engine import runtime
from engine.deploy import deploy
from engine.jobs import run_due_work
from engine.models import Incident
from tests.conftest import BPMN_DIR

from .conftest import DEMO_USERS

# The service call after a completed task is dispatched on commit.
pytestmark = pytest.mark.django_db(transaction=True)

HUGE = "99999999999999999999"
GARBAGE_QUERY = {
    "page": "-1", "sort": "\x00", "tab": "../../", "process": "x\x00", "state": "\x00", "business_key": "k" * 3000,
    "next": "https://evil.example/", "limit": "-1", "offset": "1e400", "q": "%00",
}
GARBAGE_FORM = {
    "decision": "\x00", "comment": "c" * 20_000, "to_user": HUGE, "file": "not a file", "lane_0": "no such role",
    "lane_1": "\x00", "reason": "r" * 1000, "business_key": "\x00", "next": "https://evil.example/",
    "language": "xx\x00", "approved": "maybe", "amount": "1e400", "limit": HUGE, "rating": "zzz",
    "insured": "\x00", "review_on": "2024-13-45", "customer": "[" * 500, "lines": "{",
    "lines-0-product": "\x00", "lines-0-quantity": "1e400", "lines-0-unit_price": "NaN",
    "lines-99999999999-product": "x",
}
PAGES = [
    "/", "/tasks/{task}/", "/tasks/{typed_task}/", "/tasks/{task}/complete/", "/tasks/{typed_task}/complete/",
    "/tasks/{task}/claim/", "/tasks/{task}/unclaim/", "/tasks/{task}/delegate/", "/tasks/" + HUGE + "/",
    "/start/", "/start/quote_approval/", "/start/typed_form/", "/start/no%00such/", "/language/",
    "/processes/", "/processes/definitions/{definition}/", "/processes/definitions/{definition}/bpmn/",
    "/processes/definitions/" + HUGE + "/", "/processes/instances/", "/processes/instances/{instance}/",
    "/processes/instances/{instance}/cancel/", "/processes/instances/" + HUGE + "/",
    "/processes/incidents/", "/processes/incidents/{incident}/retry/", "/processes/incidents/" + HUGE + "/retry/",
    "/processes/incidents/{incident}/", "/processes/incidents/{incident}/resolve/", "/processes/incidents/retry/",
    "/processes/incidents/" + HUGE + "/", "/processes/instances/{instance}/suspend/",
    "/processes/instances/{instance}/resume/", "/processes/instances/{instance}/variables/",
    "/processes/definitions/{definition}/rollout/",
    "/orders/", "/orders/{instance}/", "/orders/" + HUGE + "/", "/notices/" + HUGE + "/dismiss/",
    "/start/quote_approval/options/customer/", "/start/typed_form/options/x%00/", "/start/no%00such/options/lines/",
]
ROLES = [*DEMO_USERS, "operator"]


@pytest.fixture
def ids(start_quote, deploy_file, demo_users, make_user) -> dict:
    """A quote task, a typed-form task, and a failed service call with its incident."""
    make_user("operator", "Operator")
    task = start_quote()
    deploy_file("typed_form.bpmn")
    typed, _ = runtime.start_instance("typed_form", {"amount": 5, "region": "north"}, user=demo_users["sales"])
    content = (BPMN_DIR / "approval.bpmn").read_bytes()
    deploy(content.replace(b'"approval"', b'"rejecting"').replace(b"test.echo", b"test.reject"), "rejecting.bpmn")
    failing, _ = runtime.start_instance("rejecting", {"lines": []}, user=demo_users["sales"])
    runtime.complete_human_task(failing.human_tasks.get(), None, {"approved": True})
    run_due_work()
    return {
        "task": task.pk, "typed_task": typed.human_tasks.get().pk, "definition": task.instance.definition_id,
        "instance": task.instance_id, "incident": Incident.objects.get(instance=failing).pk,
    }


@pytest.fixture
def client(client):
    """Django's test client, answering 500 like a server does instead of raising, so one test lists every 500."""
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("role", ROLES)
def test_no_page_answers_500_to_a_garbage_query(client, ids, role, django_user_model):
    client.force_login(django_user_model.objects.get(username=role))
    answers = {url: client.get(url.format(**ids), GARBAGE_QUERY).status_code for url in PAGES}
    answers.update({url + " (page 10^20)": client.get(url.format(**ids), {"page": HUGE}).status_code
                    for url in PAGES})
    assert {url: status for url, status in answers.items() if status >= 500} == {}


@pytest.mark.parametrize("role", ROLES)
def test_no_page_answers_500_to_a_garbage_form(client, ids, role, django_user_model):
    client.force_login(django_user_model.objects.get(username=role))
    answers = {url: client.post(url.format(**ids), GARBAGE_FORM).status_code for url in PAGES}
    assert {url: status for url, status in answers.items() if status >= 500} == {}


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_pages_that_only_show_answer_405_to_a_write(client, ids, method, django_user_model):
    client.force_login(django_user_model.objects.get(username="operator"))
    pages = ["/", "/tasks/{task}/", "/start/", "/orders/", "/orders/{instance}/",
             "/start/quote_approval/options/customer/"]
    answers = {url: getattr(client, method)(url.format(**ids)).status_code for url in pages}
    assert answers == dict.fromkeys(pages, 405)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_pages_with_a_form_answer_405_to_other_writes_than_post(client, ids, method, django_user_model):
    client.force_login(django_user_model.objects.get(username="sales"))
    pages = ["/start/quote_approval/", "/accounts/away/", "/accounts/tokens/"]
    answers = {url: getattr(client, method)(url).status_code for url in pages}
    assert answers == dict.fromkeys(pages, 405)


def test_pages_answer_garbage_with_the_language_cookie_set_to_garbage(client, ids, django_user_model):
    client.force_login(django_user_model.objects.get(username="manager"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx-\x7f" * 100
    answers = {url: client.get(url.format(**ids), HTTP_ACCEPT_LANGUAGE="q=;;;,*-*;q=abc").status_code
               for url in PAGES}
    assert {url: status for url, status in answers.items() if status >= 500} == {}

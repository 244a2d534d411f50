"""GET /metrics: Prometheus text behind a bearer token, every figure counted from the query tables."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from engine.models import HistoryEvent, HumanTask
from monitoring import metrics

TOKEN = "s3cret-scrape-token"


@pytest.fixture(autouse=True)
def fresh_tally(settings):
    settings.LANEBRIDGE_METRICS_TOKEN = TOKEN
    metrics.forget()
    yield
    metrics.forget()


def scrape(client=None) -> dict:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0)


def test_without_a_token_the_endpoint_is_refused(db):
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401


def test_with_no_token_configured_there_is_no_endpoint(db, settings):
    settings.LANEBRIDGE_METRICS_TOKEN = ""

    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_gauges_count_instances_tasks_incidents_and_jobs(orders):
    waiting, late, delivered, failed_call = (orders.start(f"Q-{n}") for n in range(4))
    HumanTask.objects.filter(instance=late).update(due_at=timezone.now() - timedelta(hours=1))
    orders.decide(delivered, True)
    orders.run_call(delivered)
    orders.decide(failed_call, True)
    orders.erp_fails = True
    orders.run_call(failed_call)
    orders.decide(orders.start("Q-pending"), True)

    samples = scrape()

    assert value(samples, "lanebridge_instances", process="order", state="active") == 4
    assert value(samples, "lanebridge_instances", process="order", state="completed") == 1
    assert value(samples, "lanebridge_open_tasks", process="order", element="approve") == 2
    assert value(samples, "lanebridge_overdue_tasks", process="order", element="approve") == 1
    assert value(samples, "lanebridge_open_incidents", process="order", element="create_order") == 1
    assert value(samples, "lanebridge_jobs_waiting", kind="service", state="pending") == 1
    assert value(samples, "lanebridge_jobs_due", kind="service") == 1


def test_connector_calls_are_counted_by_operation_and_outcome_with_their_latency(orders):
    for n in range(3):
        instance = orders.start(f"Q-{n}")
        orders.decide(instance, True)
        orders.erp_fails = n == 2
        orders.run_call(instance)

    samples = scrape()

    ok = {"operation": "test.create_order", "outcome": "ok"}
    assert value(samples, "lanebridge_connector_calls_total", **ok) == 2
    assert value(samples, "lanebridge_connector_calls_total", operation="test.create_order", outcome="incident") == 1
    assert value(samples, "lanebridge_connector_call_seconds_count", **ok) == 2
    assert value(samples, "lanebridge_connector_call_seconds_bucket", le="+Inf", **ok) == 2
    # The calls answer from memory: well under 5 seconds each.
    assert value(samples, "lanebridge_connector_call_seconds_bucket", le="5.0", **ok) == 2
    assert value(samples, "lanebridge_steps_total", process="order", kind="task_completed") == 3


def test_counters_keep_counting_across_scrapes_once_rows_have_settled(orders):
    first = orders.start("Q-1")
    orders.decide(first, True)
    orders.run_call(first)
    scrape()
    # An hour later every row so far has settled into the tally; one more call arrives.
    HistoryEvent.objects.update(at=timezone.now() - timedelta(hours=1))
    scrape()
    second = orders.start("Q-2")
    orders.decide(second, True)
    orders.run_call(second)

    samples = scrape()

    assert value(samples, "lanebridge_connector_calls_total", operation="test.create_order", outcome="ok") == 2
    assert value(samples, "lanebridge_steps_total", process="order", kind="started") == 2

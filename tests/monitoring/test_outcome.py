"""An ended instance says which end event it reached, in the API and in its history."""

from engine.models import HistoryEvent, ProcessInstance


def test_a_rejected_quote_ends_with_the_outcome_quote_rejected(orders):
    instance = orders.start("Q-1")

    orders.decide(instance, approved=False)

    instance.refresh_from_db()
    assert (instance.state, instance.outcome) == (ProcessInstance.COMPLETED, "Quote rejected")
    completed = instance.history.get(kind=HistoryEvent.COMPLETED)
    assert (completed.element_id, completed.element_name) == ("rejected", "Quote rejected")


def test_a_delivered_order_ends_with_the_outcome_order_delivered(orders):
    instance = orders.start("Q-2")
    orders.decide(instance, approved=True)

    orders.run_call(instance)

    instance.refresh_from_db()
    assert (instance.state, instance.outcome) == (ProcessInstance.COMPLETED, "Order delivered")


def test_a_running_instance_has_no_outcome_yet(orders):
    instance = orders.start("Q-3")

    instance.refresh_from_db()
    assert instance.outcome == ""


def test_the_api_shows_the_outcome_in_the_list_and_the_instance(orders, make_user, api_as):
    instance = orders.start("Q-4")
    orders.decide(instance, approved=False)
    client = api_as(make_user("op", "Operator"))

    listed = client.get("/api/v1/instances/").json()["results"]
    one = client.get(f"/api/v1/instances/{instance.pk}/").json()

    assert [(i["business_key"], i["outcome"]) for i in listed] == [("Q-4", "Quote rejected")]
    assert one["outcome"] == "Quote rejected"

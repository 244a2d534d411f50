"""A new version goes to a share of new instances, the same for the same business key; 100 promotes, 0 rolls back."""

from __future__ import annotations

import pytest

from engine.rollout import RolloutError, bucket, chosen_version, set_rollout
from engine.runtime import start_instance
from tests.engine import bpmn


@pytest.fixture
def versions(deployed):
    """Process `reviewing` deployed in versions 1, 2 and 3."""
    for tasks in (("review",), ("review", "confirm"), ("review", "confirm", "archive")):
        deployed(bpmn.user_task_process(tasks=tasks))


def test_without_a_rollout_the_latest_version_starts(versions):
    assert chosen_version("reviewing", "K-1") is None
    assert start_instance("reviewing", {}, business_key="K-1")[0].definition.version == 3


def test_the_split_over_a_thousand_keys_is_within_five_percent_and_sticky(versions, user):
    set_rollout("reviewing", 3, 30, user, "try v3 on some orders")

    chosen = {f"Q-{i}": chosen_version("reviewing", f"Q-{i}") for i in range(1000)}

    on_new = sum(1 for version in chosen.values() if version == 3)
    assert 250 <= on_new <= 350
    assert set(chosen.values()) == {2, 3}
    assert all(chosen_version("reviewing", key) == version for key, version in chosen.items())


def test_a_started_instance_follows_the_split_and_the_same_key_gets_the_same_version(versions, user):
    set_rollout("reviewing", 3, 50, user)
    key = next(f"K-{i}" for i in range(100) if bucket("reviewing", f"K-{i}") < 50)

    first, _ = start_instance("reviewing", {}, business_key=key)
    second, _ = start_instance("reviewing", {}, business_key=key)

    assert first.definition.version == second.definition.version == 3


def test_zero_percent_rolls_back_to_the_previous_version_and_a_hundred_promotes(versions, user):
    set_rollout("reviewing", 3, 0, user, "v3 loses orders")
    assert {chosen_version("reviewing", f"K-{i}") for i in range(50)} == {2}

    set_rollout("reviewing", 3, 100, user, "v3 fixed")
    assert {chosen_version("reviewing", f"K-{i}") for i in range(50)} == {3}


def test_after_a_promotion_the_next_rollout_splits_against_the_promoted_version(versions, user):
    set_rollout("reviewing", 1, 100, user, "back to the first version")
    set_rollout("reviewing", 3, 20, user)

    assert {chosen_version("reviewing", f"K-{i}") for i in range(200)} == {1, 3}


def test_a_start_that_names_a_version_ignores_the_rollout(versions, user):
    set_rollout("reviewing", 3, 100, user)

    assert start_instance("reviewing", {}, version=1)[0].definition.version == 1


@pytest.mark.parametrize(("process_id", "version", "percent", "field"), [
    ("reviewing", 9, 10, "version"), ("reviewing", 2, 101, "percent"), ("nobody", 1, 10, "process_id")])
def test_a_rollout_to_something_missing_is_refused_naming_it(versions, process_id, version, percent, field):
    with pytest.raises(RolloutError) as refused:
        set_rollout(process_id, version, percent)

    assert refused.value.field == field
    assert chosen_version("reviewing", "K-1") is None

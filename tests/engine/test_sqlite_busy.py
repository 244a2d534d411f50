"""SQLite: a write that waited the whole busy timeout for the write lock starts over (a bounded number of times)."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from django.conf import settings
from django.db import OperationalError, connection

from engine import runtime
from engine.models import HumanTask, ProcessInstance
from tests.engine import bpmn

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), reason="SQLite's lock"),
]

BUSY_MS = 200


@pytest.fixture
def review(deployed, user):
    """An open review task, and this test's connection made to give up on a busy database quickly."""
    deployed(bpmn.user_task_process(tasks=("review", "approve")))
    instance, _ = runtime.start_instance("reviewing", {})
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    yield HumanTask.objects.get(instance=instance, element_id="review")
    with connection.cursor() as cursor:  # the connection outlives this test
        cursor.execute(f"PRAGMA busy_timeout = {int(connection.settings_dict['OPTIONS']['timeout'] * 1000)}")


@pytest.fixture
def other_writer():
    """Another connection that holds the database's write lock until released."""
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.execute("ROLLBACK")
    other.close()


def test_a_write_that_found_the_database_locked_starts_over_and_succeeds(review, user, other_writer):
    # Released after the first wait gave up and before the retries run out.
    release = threading.Timer(BUSY_MS * 1.5 / 1000, other_writer.execute, ["COMMIT"])
    release.start()
    try:
        instance = runtime.complete_human_task(review, user, {})
    finally:
        release.join()

    assert instance.state == ProcessInstance.ACTIVE
    assert HumanTask.objects.get(pk=review.pk).state == HumanTask.COMPLETED
    assert HumanTask.objects.filter(instance=instance, element_id="approve", state=HumanTask.OPEN).exists()


def test_a_write_gives_up_once_its_retries_are_spent(review, user, other_writer):
    with pytest.raises(OperationalError, match="database is locked"):
        runtime.complete_human_task(review, user, {})

    assert HumanTask.objects.get(pk=review.pk).state == HumanTask.OPEN

"""The definition page draws the definition's own BPMN file, without instance markers."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User

from engine.deploy import _spec_cache, deploy

BPMN = Path(__file__).resolve().parents[2] / "processes" / "bpmn" / "quote_to_cash.bpmn"


@pytest.fixture
def definition(db):
    _spec_cache.clear()
    yield deploy(BPMN.read_bytes(), BPMN.name).definitions[0]
    _spec_cache.clear()


def test_the_diagram_loads_the_definitions_bpmn(client, definition, roles):
    analyst = User.objects.create_user("analyst", password="x")
    analyst.groups.add(Group.objects.get(name="Analyst"))
    client.force_login(analyst)
    body = client.get(f"/processes/definitions/{definition.pk}/").content.decode()
    assert f'data-bpmn-url="/processes/definitions/{definition.pk}/bpmn/"' in body
    assert "lanebridge/diagram.js" in body
    assert 'id="diagram-markers"' not in body
    # The URL the script fetches answers with the file as deployed.
    assert client.get(f"/processes/definitions/{definition.pk}/bpmn/").content == definition.bpmn_xml.encode()

"""The management commands a newcomer and an operator use."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from engine.models import ProcessDefinition
from tests.conftest import BPMN_DIR

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_deploy_bpmn_deploys_and_says_which_version():
    assert "approval v1 deployed" in run("deploy_bpmn", str(BPMN_DIR / "approval.bpmn"))
    assert "approval v1 unchanged" in run("deploy_bpmn", str(BPMN_DIR / "approval.bpmn"))
    assert ProcessDefinition.objects.count() == 1


def test_deploy_bpmn_names_the_element_of_an_error(tmp_path):
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes((BPMN_DIR / "approval.bpmn").read_bytes().replace(
        b'total = sum(line["qty"] * line["price"] for line in lines)', b"().__class__"))
    with pytest.raises(CommandError) as error:
        run("deploy_bpmn", str(broken))
    assert "compute" in str(error.value)
    assert ProcessDefinition.objects.count() == 0


def test_deploy_bpmn_reports_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("deploy_bpmn", str(tmp_path / "nope.bpmn"))


def test_setup_demo_refuses_without_the_demo_switch(settings):
    settings.DEMO = False
    with pytest.raises(CommandError, match="LANEBRIDGE_DEMO=1"):
        run("setup_demo")
    assert not User.objects.filter(username="manager").exists()


def test_setup_demo_creates_roles_users_token_and_the_demo_process(settings):
    settings.DEMO = True
    out = run("setup_demo")
    manager = User.objects.get(username="manager")
    assert manager.check_password("demo")
    assert list(manager.groups.values_list("name", flat=True)) == ["Manager"]
    token = out.split("API token for analyst: ")[1].split()[0]
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/definitions/").status_code == 200
    integration = User.objects.get(username="integration")
    assert integration.has_perm("engine.send_message") and not integration.has_perm("engine.view_processinstance")
    integration_token = out.split("API token for integration (messages and signals): ")[1].split()[0]
    sender = APIClient(HTTP_AUTHORIZATION=f"Token {integration_token}")
    assert sender.post("/api/v1/messages/", {"name": "nobody listens"}, format="json").status_code == 404
    assert sender.post("/api/v1/signals/", {"name": "nobody listens"}, format="json").status_code == 200
    assert ProcessDefinition.objects.get(process_id="quote_to_cash").lanes == [
        "Sales", "Manager", "Finance", "Warehouse"]
    again = run("setup_demo")  # a second run changes nothing but the analyst's demo token
    assert User.objects.filter(username="manager").count() == 1
    assert client.get("/api/v1/definitions/").status_code == 401
    new_token = again.split("API token for analyst: ")[1].split()[0]
    assert APIClient(HTTP_AUTHORIZATION=f"Token {new_token}").get("/api/v1/definitions/").status_code == 200

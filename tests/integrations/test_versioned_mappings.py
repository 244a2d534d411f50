"""Field mappings are deployed with the process version and used by its connector calls."""

import copy
import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from engine.deploy import DeployError, deploy
from engine.models import Incident, Job, ProcessInstance
from engine.runtime import start_instance
from tests.engine import bpmn

# Jobs are handed to the worker on commit, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

DEFAULT = json.loads((settings.BASE_DIR / "integrations" / "mappings" / "quote_to_cash.json").read_text())
PROCESS = bpmn.service_process("erp.ensure_customer", {"customer": "customer"}, process_id="customers",
                               then_user_task=False)


def with_customer_codes(output: str) -> dict:
    mappings = copy.deepcopy(DEFAULT)
    mappings["fields"]["customer.code"]["output"] = output
    return mappings


def test_malformed_mappings_refuse_the_deploy_naming_the_field():
    broken = copy.deepcopy(DEFAULT)
    broken["fields"]["customer.code"]["type"] = "guess"
    with pytest.raises(DeployError) as error:
        deploy(PROCESS, "customers.bpmn", mappings=broken)
    assert "customer.code" in error.value.message
    assert not ProcessInstance.objects.exists()


def test_changed_mappings_make_a_new_version_and_the_same_ones_do_not():
    first = deploy(PROCESS, "customers.bpmn", mappings=DEFAULT).definitions[0]
    same = deploy(PROCESS, "customers.bpmn", mappings=DEFAULT).definitions[0]
    changed = deploy(PROCESS, "customers.bpmn", mappings=with_customer_codes("KD{number}")).definitions[0]
    assert (first.version, same.version, changed.version) == (1, 1, 2)
    assert changed.mappings["fields"]["customer.code"]["output"] == "KD{number}"


def test_each_instance_calls_the_erp_with_the_mappings_of_its_own_version(tryton_server, erp):
    deploy(PROCESS, "customers.bpmn", mappings=DEFAULT)
    old, _ = start_instance("customers", {"customer": {"code": "C-000321", "name": "Old Mapping Ltd"}})
    deploy(PROCESS, "customers.bpmn", mappings=with_customer_codes("KD{number}"))
    new, _ = start_instance("customers", {"customer": {"code": "C-000321", "name": "New Mapping Ltd"}})

    old.refresh_from_db()
    new.refresh_from_db()
    assert old.variables["result"]["customer_code"] == "CUST321"
    assert new.variables["result"]["customer_code"] == "KD321"
    assert erp.search_read("party.party", [("code", "in", ["CUST321", "KD321"])], ["code"]) != []


def test_a_value_that_does_not_map_fails_naming_the_field_and_value(tryton_server):
    deploy(PROCESS, "customers.bpmn", mappings=DEFAULT)
    instance, _ = start_instance("customers", {"customer": {"code": "X-1", "name": "Nobody"}})
    incident = Incident.objects.get(instance=instance)
    assert "customer.code" in incident.message and "X-1" in incident.message
    assert Job.objects.get(instance=instance).attempts == 1  # a business error is not retried


def test_the_api_takes_mappings_next_to_the_file_and_refuses_bad_ones(make_user, api_as):
    client = api_as(make_user("analyst", "Analyst"))

    def upload(mappings: bytes):
        return client.post("/api/v1/definitions/", {
            "file": SimpleUploadedFile("customers.bpmn", PROCESS, content_type="application/xml"),
            "mappings": SimpleUploadedFile("customers.json", mappings, content_type="application/json"),
        }, format="multipart")

    assert upload(b"[1, 2]").status_code == 400
    bad = upload(b'{"name": "x"}')
    assert bad.status_code == 400 and "fields" in bad.json()["error"]
    good = upload(json.dumps(DEFAULT).encode())
    assert good.status_code == 201, good.content

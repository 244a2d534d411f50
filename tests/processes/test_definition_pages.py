"""The definition page: analysts map lanes to roles."""

import pytest
from django.contrib.auth.models import Group

from engine.deploy import deploy
from tests.conftest import BPMN_DIR

pytestmark = pytest.mark.django_db


@pytest.fixture
def definition(roles):
    return deploy((BPMN_DIR / "approval.bpmn").read_bytes(), "approval.bpmn").definitions[0]


def test_an_analyst_maps_a_lane_to_another_role(definition, make_user, client):
    client.force_login(make_user("analyst", "Analyst"))
    Group.objects.create(name="Sales managers")
    response = client.post(f"/processes/definitions/{definition.pk}/", {"lane_0": "Sales", "lane_1": "Sales managers"})
    assert response.status_code == 302
    definition.refresh_from_db()
    assert definition.lane_roles == {"Sales": "Sales", "Manager": "Sales managers"}


def test_a_lane_without_role_is_a_warning_and_other_warnings_stay(definition, make_user, client):
    definition.warnings = ["Data store 'Archive' is ignored"]
    definition.save()
    client.force_login(make_user("analyst", "Analyst"))
    client.post(f"/processes/definitions/{definition.pk}/", {"lane_0": "Sales", "lane_1": ""})
    definition.refresh_from_db()
    assert definition.warnings == ["Data store 'Archive' is ignored",
                                   "Lane 'Manager' has no role: nobody can act on its tasks"]


def test_approvers_see_the_roles_but_may_not_change_them(definition, make_user, client):
    client.force_login(make_user("sales", "Sales"))
    assert client.get(f"/processes/definitions/{definition.pk}/").status_code == 200
    response = client.post(f"/processes/definitions/{definition.pk}/", {"lane_0": "", "lane_1": ""})
    assert response.status_code == 403
    definition.refresh_from_db()
    assert definition.lane_roles == {"Sales": "Sales", "Manager": "Manager"}


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_pages_that_only_show_answer_405_to_a_write(definition, make_user, client, method):
    from engine.runtime import start_instance

    instance, _ = start_instance("approval", {"lines": []}, "Q-1")
    client.force_login(make_user("admin", is_superuser=True))
    pages = ["/processes/instances/", f"/processes/instances/{instance.pk}/", "/processes/incidents/",
             f"/processes/definitions/{definition.pk}/bpmn/", "/processes/modeler/",
             f"/processes/definitions/{definition.pk}/edit/", "/processes/modeler/blank.bpmn"]
    answers = {url: getattr(client, method)(url).status_code for url in pages}
    assert answers == dict.fromkeys(pages, 405)


def test_a_refused_upload_answers_400_naming_the_file(roles, make_user, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(make_user("analyst", "Analyst"))
    response = client.post("/processes/", {"file": SimpleUploadedFile("orders.bpmn", b"not xml")})
    assert response.status_code == 400
    assert "file" in response.context["form"].errors


def test_a_lane_mapped_to_an_unknown_role_answers_400_naming_the_lane(definition, make_user, client):
    client.force_login(make_user("analyst", "Analyst"))
    response = client.post(f"/processes/definitions/{definition.pk}/", {"lane_0": "No such role", "lane_1": ""})
    assert response.status_code == 400
    assert "lane_0" in response.context["form"].errors
    definition.refresh_from_db()
    assert definition.lane_roles == {"Sales": "Sales", "Manager": "Manager"}


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_pages_with_a_form_answer_405_to_other_writes_than_post(definition, make_user, client, method):
    from engine.runtime import start_instance

    instance, _ = start_instance("approval", {"lines": []}, "Q-1")
    client.force_login(make_user("admin", is_superuser=True))
    pages = ["/processes/", f"/processes/definitions/{definition.pk}/",
             f"/processes/instances/{instance.pk}/variables/", f"/processes/instances/{instance.pk}/migrate/",
             f"/processes/definitions/{definition.pk}/migrate/"]
    answers = {url: getattr(client, method)(url).status_code for url in pages}
    assert answers == dict.fromkeys(pages, 405)

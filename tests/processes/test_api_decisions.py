"""DMN files over the API, the command line and the processes page: deployed, versioned, listed, used."""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from engine.models import DecisionDefinition, ProcessDefinition
from tests.engine import dmn

pytestmark = pytest.mark.django_db

TABLE = dmn.table("discount", [(['"gold","platinum"', "> 1000"], ["0.1"]), (["-", "-"], ["0"])],
                  hit_policy="FIRST", name="Discount")
TASK = dmn.rule_task("decide", "discount", result_variable="discount", mapping="singleEntry")
PROCESS = dmn.routed_process(TASK, "discount > 0")


def upload(client, *files: tuple[str, bytes], url: str = "/api/v1/definitions/"):
    return client.post(url, {"file": [SimpleUploadedFile(name, content, content_type="application/xml")
                                      for name, content in files]}, format="multipart")


@pytest.fixture
def analyst(make_user, api_as):
    return api_as(make_user("analyst", "Analyst"))


def test_a_dmn_file_deploys_and_is_listed_with_its_version_and_hit_policy(analyst):
    response = upload(analyst, ("rules.dmn", TABLE))

    assert response.status_code == 201, response.content
    assert [(d["decision_id"], d["version"]) for d in response.json()["decisions"]] == [("discount", 1)]
    listed = analyst.get("/api/v1/decisions/").json()["results"]
    assert [(d["decision_id"], d["name"], d["version"], d["hit_policy"]) for d in listed] == [
        ("discount", "Discount", 1, "FIRST")]


def test_the_same_dmn_again_keeps_its_version_and_a_change_adds_one(analyst):
    upload(analyst, ("rules.dmn", TABLE))

    again = upload(analyst, ("rules.dmn", TABLE))
    changed = upload(analyst, ("rules.dmn", TABLE.replace(b"0.1", b"0.15")))

    assert again.status_code == 200 and again.json()["decisions"][0]["version"] == 1
    assert changed.status_code == 201 and changed.json()["decisions"][0]["version"] == 2
    listed = analyst.get("/api/v1/decisions/?decision_id=discount").json()["results"]
    assert [d["version"] for d in listed] == [2, 1]


def test_a_process_and_its_decision_in_one_upload_run_through_the_api(analyst):
    response = upload(analyst, ("pricing.bpmn", PROCESS), ("rules.dmn", TABLE))
    assert response.status_code == 201, response.content
    assert response.json()["process_id"] == "pricing" and response.json()["decisions"][0]["decision_id"] == "discount"

    started = analyst.post("/api/v1/processes/pricing/instances/",
                           {"variables": {"status": "gold", "amount": 1500}}, format="json")

    assert started.status_code == 201, started.content
    instance = analyst.get(f"/api/v1/instances/{started.json()['id']}/").json()
    assert instance["variables"]["discount"] == 0.1
    assert [t["element_id"] for t in instance["tasks"]] == ["special"]


def test_a_process_whose_decision_is_missing_gets_400_naming_the_task(analyst):
    response = upload(analyst, ("pricing.bpmn", PROCESS))

    assert response.status_code == 400
    body = response.json()
    assert body["element_id"] == "decide" and "'discount'" in body["error"] and body["line"]
    assert not ProcessDefinition.objects.exists()


def test_a_bad_entry_gets_400_naming_decision_rule_column_and_line(analyst):
    response = upload(analyst, ("rules.dmn", TABLE.replace(b"&gt; 1000", b"&gt;&gt; 1000")))

    assert response.status_code == 400
    body = response.json()
    assert "'discount'" in body["error"] and "'Rule_1'" in body["error"] and "'Amount'" in body["error"]
    assert body["element_id"] == "UnaryTests_1_2" and body["line"]
    assert not DecisionDefinition.objects.exists()


def test_malformed_dmn_gets_400_with_its_line(analyst):
    response = upload(analyst, ("rules.dmn", TABLE.replace(b"</decision>", b"</decisio>")))

    assert response.status_code == 400 and response.json()["line"]


def test_validation_reads_the_dmn_files_beside_the_bpmn_file(analyst):
    url = "/api/v1/definitions/validate/"

    alone = upload(analyst, ("pricing.bpmn", PROCESS), url=url).json()
    together = upload(analyst, ("pricing.bpmn", PROCESS), ("rules.dmn", TABLE), url=url).json()

    assert [p["element_id"] for p in alone["problems"]] == ["decide"]
    assert together["problems"] == []
    assert not DecisionDefinition.objects.exists() and not ProcessDefinition.objects.exists()


def test_validation_of_a_bad_dmn_file_names_the_rule_and_line(analyst):
    result = upload(analyst, ("rules.dmn", TABLE.replace(b"&gt; 1000", b"&gt;&gt; 1000")),
                    url="/api/v1/definitions/validate/").json()

    [problem] = result["problems"]
    assert problem["element_id"] == "UnaryTests_1_2" and problem["line"] and "'Rule_1'" in problem["message"]


def test_a_literal_decision_requiring_a_table_runs_through_the_api_bound_by_deployment(analyst):
    rate = dmn.decision("rate", [(['"gold"'], ["0.2"]), (["-"], ["0.05"])], hit_policy="FIRST",
                        inputs=[("Status", "status", "string")], outputs=["rate"], rule_ids="rate_")
    discount = dmn.literal("discount", "amount * rate", "discount", "double", requires=("rate",))
    task = dmn.rule_task("decide", "discount", result_variable="discount", mapping="singleEntry",
                         decisionRefBinding="deployment")
    response = upload(analyst, ("pricing.bpmn", dmn.routed_process(task, "discount > 100")),
                      ("rules.dmn", dmn.dmn_file(rate + discount)))
    assert response.status_code == 201, response.content

    started = analyst.post("/api/v1/processes/pricing/instances/",
                           {"variables": {"status": "gold", "amount": 1000}}, format="json")

    instance = analyst.get(f"/api/v1/instances/{started.json()['id']}/").json()
    assert instance["variables"]["discount"] == 200.0
    assert [t["element_id"] for t in instance["tasks"]] == ["special"]
    listed = {d["decision_id"]: d for d in analyst.get("/api/v1/decisions/").json()["results"]}
    assert (listed["discount"]["kind"], listed["discount"]["hit_policy"]) == ("literal", None)
    assert (listed["rate"]["kind"], listed["rate"]["hit_policy"]) == ("table", "FIRST")


def test_a_literal_outside_the_subset_gets_400_naming_the_decision_and_line(analyst):
    content = dmn.dmn_file(dmn.literal("score", "for a in amounts return a * 2", "score"))

    response = upload(analyst, ("rules.dmn", content))

    assert response.status_code == 400
    body = response.json()
    assert "Decision 'score'" in body["error"] and body["element_id"] == "Literal_score"
    assert body["line"] == next(i for i, line in enumerate(content.decode().splitlines(), 1) if "Literal_score" in line)
    assert not DecisionDefinition.objects.exists()


def test_a_cycle_of_required_decisions_gets_400_naming_the_decision(analyst):
    content = dmn.dmn_file(dmn.literal("a", "b", "a", requires=("b",)) + dmn.literal("b", "a", "b", requires=("a",)))

    response = upload(analyst, ("rules.dmn", content))

    assert response.status_code == 400
    assert "Decision 'a' requires itself" in response.json()["error"] and response.json()["line"]


def test_only_analysts_deploy_decisions_and_only_signed_in_users_list_them(make_user, api_as, client):
    approver = api_as(make_user("sales", "Sales"))

    assert upload(approver, ("rules.dmn", TABLE)).status_code == 403
    assert client.get("/api/v1/decisions/").status_code in (401, 403)
    assert approver.get("/api/v1/decisions/").status_code == 200
    assert not DecisionDefinition.objects.exists()


def test_the_processes_page_lists_decisions_and_deploys_dmn_files(make_user, client):
    client.force_login(make_user("analyst", "Analyst"))

    deployed = client.post("/processes/", {"file": [SimpleUploadedFile("rules.dmn", TABLE),
                                                    SimpleUploadedFile("pricing.bpmn", PROCESS)]})
    page = client.get("/processes/")

    assert deployed.status_code == 302
    assert DecisionDefinition.objects.get().decision_id == "discount"
    assert ProcessDefinition.objects.get().process_id == "pricing"
    body = page.content.decode()
    assert 'id="decisions"' in body and "discount" in body and "FIRST" in body


def test_the_processes_page_speaks_chinese_about_decisions(make_user, client):
    client.force_login(make_user("analyst", "Analyst"))

    page = client.get("/processes/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert "决策" in page.content.decode() and "命中策略" in page.content.decode()


@pytest.mark.parametrize(("language", "words"), [("en", "Literal expression"), ("zh-hans", "字面量表达式")])
def test_the_processes_page_calls_a_literal_decision_a_literal_expression(make_user, client, language, words):
    client.force_login(make_user("analyst", "Analyst"))
    client.post("/processes/", {"file": [SimpleUploadedFile("score.dmn", dmn.dmn_file(
        dmn.literal("score", "amount * 2", "score")))]})

    page = client.get("/processes/", HTTP_ACCEPT_LANGUAGE=language)

    assert DecisionDefinition.objects.get().decision_id == "score" and words in page.content.decode()


def test_deploy_bpmn_deploys_a_process_with_its_dmn_file(tmp_path):
    (tmp_path / "rules.dmn").write_bytes(TABLE)
    (tmp_path / "pricing.bpmn").write_bytes(PROCESS)
    out = StringIO()

    call_command("deploy_bpmn", str(tmp_path / "pricing.bpmn"), str(tmp_path / "rules.dmn"), stdout=out)

    assert "decision discount v1 deployed" in out.getvalue() and "pricing v1 deployed" in out.getvalue()


def test_deploy_bpmn_names_the_task_whose_decision_is_missing(tmp_path):
    (tmp_path / "pricing.bpmn").write_bytes(PROCESS)

    with pytest.raises(CommandError) as error:
        call_command("deploy_bpmn", str(tmp_path / "pricing.bpmn"), stdout=StringIO())

    assert "decide" in str(error.value) and "discount" in str(error.value)

from django.conf import settings
from engine.runtime import start_instance
from engine.models import *
from tests.engine import bpmn

def test_smoke(deployed):
    print(settings.DATABASES)
    d = deployed(bpmn.user_task_process(script="x = 1"))
    inst, c = start_instance("review", {"a": 1})
    print(inst.state, list(inst.human_tasks.values_list("element_id", "state")), inst.error)
    d = deployed(bpmn.service_process("test.echo", {"a": "1+1"}))
    inst, c = start_instance("servicing", {"a": 1})
    inst.refresh_from_db()
    print(inst.state, list(inst.jobs.values()), inst.variables, list(inst.history.values_list("kind", flat=True)))

import pytest, sys
from engine.deploy import deploy, DeployError
from engine.runtime import start_instance
from engine.models import *
from tests.engine import bpmn

CASES = {
 "import": "import os\nx = os.getpid()",
 "open": "x = open('/etc/hostname').read()",
 "getattr": "x = str(getattr(1, '__class__'))",
 "loop": "while True:\n    pass",
 "loop2": "while True: pass",
 "ok": "total = sum(l['q'] * l['p'] for l in lines)\nsq = [l['q'] ** 2 for l in lines]\nd = {'a': [1, 2]}\nn = 0\nn += 5\nlo = min(1, 2)\nhi = max([3, 4])\nr = round(2.567, 2)\nc = len(lines)\ns = sorted([3, 1, 2])",
}

@pytest.mark.parametrize("name", CASES)
def test_smoke(db, name, settings):
    settings.LANEBRIDGE = {**settings.LANEBRIDGE, "SCRIPT_TIMEOUT_SECONDS": 0.5}
    deploy(bpmn.script_process(CASES[name]), "x.bpmn")
    inst, _ = start_instance("scripted", {"lines": [{"q": 2, "p": 3.5}, {"q": 1, "p": 1}]})
    print(name, inst.state, repr(inst.error), inst.variables if inst.state == "active" else "", list(Incident.objects.values("element_id", "message", "details")), sys.gettrace())

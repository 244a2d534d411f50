"""The benchmarks' in-process stand-ins for the ERP and CRM operations, for processes started by a bench script.

Loaded with LANEBRIDGE_CONNECTOR_MODULES=bench.stand_in_connectors (web and worker processes alike).
"""

from bench.engine_throughput import fake_operations
from engine import connectors

for _name, _func in fake_operations().items():
    connectors.register(_name, _func)

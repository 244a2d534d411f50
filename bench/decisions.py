"""What deciding a DMN table costs in Lanebridge, beside SpiffWorkflow's own DMN engine, in the same run.

Run: ``.venv/bin/python bench/decisions.py [--rules N] [--decisions D] [--rounds R]``. Prints figures;
asserts nothing.

Both sides decide the same COLLECT table (N rules over a text and a number input, entries such as
``"gold"`` and ``> 1000`` that mean the same in FEEL and in SpiffWorkflow's Python) D times over
the same data:

* Lanebridge: ``engine.deciding.decide`` on the table as deploy translated it, every entry compiled
  under the restricted rules and evaluated by the engine's script environment (in process, as
  bounded expressions are);
* SpiffWorkflow: ``DMNEngine.result`` on the table its DMN parser read, evaluated by a plain
  ``PythonScriptEngine`` (unrestricted ``eval``), the library's default.

The sides alternate in rounds, so a busy moment of a shared machine falls on both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
DATA = {"status": "gold", "amount": 1500}


def table_xml(rules: int) -> bytes:
    """A DMN 1.3 COLLECT table with `rules` rules; about one in four matches DATA."""
    statuses = ["gold", "silver", "bronze", "platinum"]
    body = "".join(
        f'<rule id="r{i}"><inputEntry id="r{i}a"><text>"{statuses[i % 4]}"</text></inputEntry>'
        f'<inputEntry id="r{i}b"><text>&gt; {i * 10}</text></inputEntry>'
        f'<outputEntry id="r{i}c"><text>{i}</text></outputEntry></rule>'
        for i in range(rules))
    return (
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" name="d" namespace="x">'
        '<decision id="discount" name="Discount"><decisionTable id="t" hitPolicy="COLLECT">'
        '<input id="i1" label="Status"><inputExpression id="e1"><text>status</text></inputExpression></input>'
        '<input id="i2" label="Amount"><inputExpression id="e2"><text>amount</text></inputExpression></input>'
        '<output id="o1" name="discount"/>'
        f"{body}</decisionTable></decision></definitions>"
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lanebridge.settings")
    import django

    django.setup()
    from lxml import etree
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

    from engine import deciding, decisions
    from engine.scripts import SCRIPT_ENGINE

    content = table_xml(args.rules)
    table = decisions.read_decisions(etree.fromstring(content).getroottree())[0].table
    spiff_parser = SpiffBpmnParser()
    spiff_parser.add_dmn_str(content)
    spiff_engine = spiff_parser.get_engine("discount", None)
    task = SimpleNamespace(data=dict(DATA), workflow=SimpleNamespace(script_engine=PythonScriptEngine()))

    ours_result = deciding.decide(table, dict(DATA), SCRIPT_ENGINE.environment.evaluate)
    theirs_result = spiff_engine.result(task)
    same = [r["discount"] for r in ours_result] == theirs_result["discount"]

    def lanebridge() -> None:
        for _ in range(args.decisions):
            deciding.decide(table, dict(DATA), SCRIPT_ENGINE.environment.evaluate)

    def spiffworkflow() -> None:
        for _ in range(args.decisions):
            spiff_engine.result(task)

    timings: dict[str, list[float]] = {"Lanebridge": [], "SpiffWorkflow": []}
    for _ in range(args.rounds):
        for name, run in (("Lanebridge", lanebridge), ("SpiffWorkflow", spiffworkflow)):
            started = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - started)

    print(f"{args.rules} rules, {args.decisions} decisions x {args.rounds} rounds; "
          f"{len(ours_result)} rules match; both sides agree: {same}")
    for name, values in timings.items():
        per = statistics.median(values) / args.decisions * 1000
        print(f"  {name:14} {per:7.3f} ms per decision (median of rounds)")
    ratios = [a / b for a, b in zip(timings["Lanebridge"], timings["SpiffWorkflow"], strict=True)]
    print(f"  Lanebridge / SpiffWorkflow: {statistics.median(ratios):.2f}x "
          f"(rounds {min(ratios):.2f}x-{max(ratios):.2f}x)")


if __name__ == "__main__":
    main()

"""What running a script in a worker process costs, beside RestrictedPython in the same process, in the same run.

Run: ``.venv/bin/python bench/script_isolation.py [--steps N] [--rounds R]``. Prints figures; asserts nothing.

Each step is what the engine does for one script task or expression of the demo process
(quote_to_cash's "Compute quote total" script, a condition, a service parameter), over the
same task data:

* in-process: compile (cached) and run under the restricted rules in this process, no isolation;
  what Lanebridge did before scripts moved to workers (minus its per-bytecode time check);
* pool: ``engine.scripts`` as the engine calls it: a round trip to a worker of the pool (JSON over
  pipes, compiled code cached in the worker), with its limits and deadline;
* pool, forced: a bounded expression (``total > threshold``) that the engine evaluates in
  process, sent to a worker anyway, to show what that shortcut saves.

The sides alternate in rounds, so a busy moment of a shared machine falls on all of them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DATA = {
    "customer": {"name": "Customer 1", "code": "C-1", "email": "c1@example.com"},
    "lines": [
        {"product": "WIDGET", "quantity": 10, "unit_price": 100.0},
        {"product": "GADGET", "quantity": 5, "unit_price": 50.0},
    ],
    "approval_threshold": 1000,
    "opportunity_id": 501,
    "quote_id": "Q-1",
    "total": 1250.0,
    "threshold": 1000.0,
}

SCRIPT = """total = sum(float(line["quantity"]) * float(line["unit_price"]) for line in lines)
try:
    threshold = float(approval_threshold)
except (NameError, TypeError, ValueError):
    threshold = 10000.0
try:
    quote_reference = str(quote_id) if quote_id else ""
except NameError:
    quote_reference = \"\""""
PARAMETER = "[{'product': line['product'], 'quantity': line['quantity']} for line in lines]"
CONDITION = "total > threshold"


def in_process(steps: int) -> float:
    """Seconds for `steps` script steps run in this process under the restricted rules."""
    from engine.restricted import RESTRICTED_GLOBALS, compile_script

    started = time.perf_counter()
    for _ in range(steps):
        context = dict(DATA)
        code, names = compile_script(SCRIPT, "exec")
        namespace = {**RESTRICTED_GLOBALS, **context}
        exec(code, namespace)
        context.update({k: v for k, v in namespace.items() if k in names and not callable(v)})
        code, names = compile_script(PARAMETER, "eval")
        eval(code, {**RESTRICTED_GLOBALS, **context})
    return time.perf_counter() - started


def in_pool(steps: int) -> float:
    """Seconds for `steps` script steps run as the engine runs them (in a worker)."""
    from engine.scripts import SCRIPT_ENGINE

    environment = SCRIPT_ENGINE.environment
    started = time.perf_counter()
    for _ in range(steps):
        context = dict(DATA)
        environment.execute(SCRIPT, context, {})
        environment.evaluate(PARAMETER, context)
    return time.perf_counter() - started


def condition(steps: int, forced: bool) -> float:
    """Seconds for `steps` evaluations of a bounded condition, in this process or forced into a worker."""
    from engine import scripts

    evaluate = (lambda: scripts._run(CONDITION, "eval", DATA, None)) if forced else (
        lambda: scripts.SCRIPT_ENGINE.environment.evaluate(CONDITION, DATA))
    started = time.perf_counter()
    for _ in range(steps):
        evaluate()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="script steps per side and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lanebridge.settings")
    import django

    django.setup()
    from django.conf import settings

    in_pool(10)  # start the workers and fill the compile caches
    in_process(10)
    condition(10, forced=True)
    here, pooled, shortcut, forced = [], [], [], []
    for r in range(args.rounds):
        here.append(in_process(args.steps) / args.steps)
        pooled.append(in_pool(args.steps) / args.steps)
        shortcut.append(condition(args.steps, forced=False) / args.steps)
        forced.append(condition(args.steps, forced=True) / args.steps)
        print(f"  round {r + 1}: in-process {here[-1] * 1e6:.0f} us, pool {pooled[-1] * 1e6:.0f} us per step",
              file=sys.stderr)

    def us(values: list) -> float:
        return statistics.median(values) * 1e6

    print(f"script step (script task + service parameter), median of {args.rounds} rounds of {args.steps}; "
          f"{settings.LANEBRIDGE['SCRIPT_WORKERS']} workers, load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"in-process RestrictedPython:  {us(here):8.0f} us per step")
    print(f"worker pool (isolated):       {us(pooled):8.0f} us per step")
    print(f"ratio pool/in-process: {us(pooled) / us(here):.1f}; "
          f"isolation costs {us(pooled) - us(here):.0f} us per step")
    print(f"bounded condition {CONDITION!r}: in process {us(shortcut):.0f} us, "
          f"forced into a worker {us(forced):.0f} us")


if __name__ == "__main__":
    main()

"""Measure the local Tryton ERP: template build, prepare+start from the template, per-call latency.

Run: ``.venv/bin/python bench/tryton_calls.py [--calls N] [--rebuild]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lanebridge.settings")


def percentile(values: list[float], share: float) -> float:
    """Return the `share` percentile of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(label: str, func, results: dict, *args) -> object:
    start = time.perf_counter()
    value = func(*args)
    results.setdefault(label, []).append((time.perf_counter() - start) * 1000)
    return value


def main() -> None:
    """Build (optionally), start the server on a free port, run N order chains and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true", help="build a template from scratch in a temp dir")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from engine.connectors import Call
    from integrations.crm_tryton import operations as crm
    from integrations.erp_tryton import operations as erp
    from integrations.tryton import server
    from integrations.tryton.rpc import TrytonClient, reset_clients

    work = Path(tempfile.mkdtemp(prefix="lb-bench-"))
    template = Path(settings.TRYTON_TEMPLATE_DIR)
    try:
        if args.rebuild:
            template = work / "template"
        start = time.perf_counter()
        server.build_template(template)
        print(
            f"template build            {time.perf_counter() - start:8.1f} s"
            f"{'' if args.rebuild else '  (already built: pass --rebuild to measure)'}"
        )

        with __import__("socket").socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        start = time.perf_counter()
        server.prepare_run(work / "run", port, template)
        proc = server.start_server(work / "run", port)
        print(f"prepare + start           {time.perf_counter() - start:8.2f} s")
        settings.ERP_URL = settings.CRM_URL = f"http://127.0.0.1:{port}"
        reset_clients()
        try:
            raw = TrytonClient(settings.ERP_URL, "erp", "admin", "admin")
            results: dict[str, list[float]] = {}
            for _ in range(args.calls):
                timed("baseline: rpc search_count", raw.model, results, "sale.sale", "search_count", [])
            customer = erp.ensure_customer(Call("", {"customer": {"code": "C-000123", "name": "Acme"}}, "c", 1))
            for i in range(args.calls):
                key = uuid.uuid4().hex
                sale = timed(
                    "erp.create_sales_order",
                    erp.create_sales_order,
                    results,
                    Call(
                        "",
                        {
                            "customer_id": customer["customer_id"],
                            "reference": f"B-{i}",
                            "lines": [{"product": "WIDGET", "quantity": 1, "unit_price": "1200"}],
                        },
                        key,
                        1,
                    ),
                )
                timed(
                    "erp.create_sales_order (retry)",
                    erp.create_sales_order,
                    results,
                    Call("", {"customer_id": customer["customer_id"], "lines": []}, key, 1),
                )
                by_sale = Call("", {"sale_id": sale["sale_id"]}, key, 1)
                timed("erp.confirm_sales_order", erp.confirm_sales_order, results, by_sale)
                production = timed("erp.create_production", erp.create_production, results, by_sale)
                timed(
                    "erp.complete_production",
                    erp.complete_production,
                    results,
                    Call("", {"production_id": production["production_id"]}, key, 1),
                )
                timed("erp.ship_order", erp.ship_order, results, by_sale)
                timed("erp.read_invoice", erp.read_invoice, results, by_sale)
                timed("crm.read_opportunity", crm.read_opportunity, results, Call("", {"opportunity_id": 1}, key, 1))
            print(f"\n{'call':34} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
            for label, values in results.items():
                print(f"{label:34} {len(values):4d} {statistics.median(values):8.1f} {percentile(values, 0.95):8.1f}")
        finally:
            server.stop_server(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Take the README's screenshots of the monitor from a realistic demo state, in headless Chromium.

Run: ``.venv/bin/python docs/make_screenshots.py`` (writes docs/monitor.png and docs/process-monitor.png).

A throwaway SQLite database gets the demo users and process (``setup_demo``), then two weeks of
orders run through the engine on a simulated clock, with in-process stand-ins for the ERP and
CRM: most are delivered, some rejected, others wait for approval (a few past due), for the
ERP's production or shipment, or for the customer follow-up, and some ERP calls fail into
incidents. Then the web app answers on a free port and Chromium logs in as the operator.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ORDERS = 90
DAYS = 14


class Clock:
    """The simulated now every `timezone.now()` answers while the orders run."""

    def __init__(self, start):
        self.at = start

    def __call__(self):
        return self.at


def run_orders(clock: Clock, rng: random.Random) -> None:
    """Start ORDERS quotes over the last DAYS days and take each as far as its roll says."""
    from django.contrib.auth.models import User

    from bench.engine_throughput import ANSWERS, fake_operations, start_variables
    from engine import connectors
    from engine.jobs import run_due_work
    from engine.messages import Message, send_message
    from engine.models import HumanTask, Subscription
    from engine.runtime import complete_human_task, start_instance

    failing: dict[str, type[Exception]] = {}

    def stand_in(name, func):
        def call(c):
            if name in failing:
                raise failing[name](f"{name}: the ERP did not answer")
            return func(c)
        return call

    for name, func in fake_operations().items():
        connectors.register(name, stand_in(name, func))
    sales, manager = User.objects.get(username="sales"), User.objects.get(username="manager")
    end = clock.at
    first = end - timedelta(days=DAYS)

    def task(instance, element_id):
        return HumanTask.objects.filter(instance=instance, element_id=element_id, state=HumanTask.OPEN).first()

    for i in range(ORDERS):
        clock.at = first + timedelta(days=DAYS * i / ORDERS, minutes=rng.randint(0, 600))
        instance, _ = start_instance("quote_to_cash", start_variables(i + 1), business_key=f"Q-{1001 + i}",
                                     user=sales)
        roll = rng.random()
        waited = timedelta(hours=rng.uniform(1, 20))
        if roll < 0.12 or clock.at + waited > end:
            continue  # waiting for approval (past due when it started more than a day ago)
        clock.at += waited
        failing.clear()
        if roll < 0.30:
            complete_human_task(task(instance, "Task_ApproveQuote"), manager, {"decision": "reject",
                                                                               "comment": "Discount too deep"})
            continue
        if roll < 0.36:
            failing["erp.create_sales_order"] = RuntimeError  # retried, then an incident
        complete_human_task(task(instance, "Task_ApproveQuote"), manager, ANSWERS["Task_ApproveQuote"])
        if failing:
            for _ in range(5):
                clock.at += timedelta(minutes=10)
                run_due_work(clock.at)
            continue
        # The ERP reports production, delivery and payment some hours apart, as the watcher sends them;
        # some orders still wait for their production (0) or their shipment (1).
        reports = 0 if roll < 0.44 else 1 if roll < 0.50 else 3
        for _ in range(reports):
            waiting = Subscription.objects.filter(instance=instance).first()
            clock.at += timedelta(hours=rng.uniform(2, 30))
            if waiting is None or clock.at > end:
                break
            send_message(Message(name=waiting.name, business_key=instance.business_key))
        follow_up = task(instance, "Task_FollowUp")
        clock.at += timedelta(hours=rng.uniform(4, 60))
        if follow_up is None or roll > 0.85 or clock.at > end:
            continue  # waits for the customer follow-up
        complete_human_task(follow_up, sales, ANSWERS["Task_FollowUp"])
    clock.at = end
    # SpiffWorkflow takes due times from the wall clock, not the simulated one: an approval is due
    # 24 hours after it was created, as its boundary timer says.
    for approval in HumanTask.objects.filter(element_id="Task_ApproveQuote", state=HumanTask.OPEN):
        HumanTask.objects.filter(pk=approval.pk).update(due_at=approval.created_at + timedelta(hours=24))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shoot(base: str, out: Path) -> None:
    """Log in as the operator and save the monitor and the process monitor."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.e2e.conftest import CHROMIUM_FLAGS

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    with tempfile.TemporaryDirectory(prefix="lanebridge-chromium-") as profile:
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            wait = WebDriverWait(browser, 30)
            browser.get(f"{base}/accounts/login/?next=/monitor/")
            browser.find_element(By.NAME, "username").send_keys("operator")
            password = browser.find_element(By.NAME, "password")
            password.send_keys("demo")
            password.submit()
            wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#chart-throughput canvas")))
            browser.set_window_size(1280, 1500)
            time.sleep(2)  # the charts' entry animation
            browser.save_screenshot(str(out / "monitor.png"))
            browser.get(f"{base}/processes/quote_to_cash/monitor/")
            wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".djs-container svg")))
            browser.set_window_size(1280, 900)
            time.sleep(2)
            browser.save_screenshot(str(out / "process-monitor.png"))
        finally:
            browser.quit()


def main() -> None:
    out = ROOT / "docs"
    with tempfile.TemporaryDirectory(prefix="lanebridge-shots-") as directory:
        env = {**os.environ, "LANEBRIDGE_VAR": directory, "SQLITE_PATH": str(Path(directory) / "demo.sqlite3"),
               "LANEBRIDGE_DEMO": "1", "DJANGO_SETTINGS_MODULE": "lanebridge.settings"}
        env.pop("DATABASE_URL", None)
        env.pop("CELERY_BROKER_URL", None)
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        call_command("setup_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 - its token output is not wanted
        clock = Clock(timezone.now())
        with mock.patch("django.utils.timezone.now", clock):
            run_orders(clock, random.Random(11))
        port = free_port()
        server = subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, str(ROOT / "manage.py"), "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/accounts/login/", timeout=2)  # noqa: S310 - local
                    break
                except OSError:
                    time.sleep(0.2)
            shoot(base, out)
        finally:
            server.terminate()
            server.wait(10)
    print(f"wrote {out / 'monitor.png'} and {out / 'process-monitor.png'}")


if __name__ == "__main__":
    main()

"""The deployment files run what `manage.py serve` runs, and the image's settings work without a container."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import subprocess
import sys

import pytest
import requests
import yaml
from django.conf import settings

from lanebridge.supervisor import commands
from tests.processes.test_serve import MANAGE, Served, embedded_env, free_port

ROOT = settings.BASE_DIR


def as_written(argv: list[str]) -> list[str]:
    """A command as the deployment files write it: `python`, and manage.py beside the working directory."""
    return ["python", *("manage.py" if arg == MANAGE else arg for arg in argv[1:])]


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(ROOT / "deploy" / "systemd" / name)
    return parser


def test_compose_runs_the_services_of_the_scaled_setup_with_the_commands_serve_supervises():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    assert set(services) == {"web", "worker", "beat", "migrate", "db", "redis", "tryton"}
    scaled = commands(erp=True, scaled=True)
    for service, child in [("web", "web"), ("worker", "worker"), ("beat", "beat"), ("tryton", "erp")]:
        assert services[service]["command"] == as_written(scaled[child]), service
        assert services[service]["restart"] == "unless-stopped"
    assert services["web"]["environment"]["CELERY_BROKER_URL"].startswith("redis://")
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgres://")
    assert services["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_the_systemd_units_run_the_commands_serve_supervises():
    venv_python = "/opt/lanebridge/.venv/bin/python"
    for name, child, scaled in [("lanebridge-web.service", "web", True), ("lanebridge-worker.service", "worker", True),
                                ("lanebridge-beat.service", "beat", True)]:
        argv = shlex.split(unit(name)["Service"]["ExecStart"])
        assert argv[0] == venv_python
        assert as_written(argv) == as_written(commands(scaled=scaled)[child]), name
    embedded = shlex.split(unit("lanebridge.service")["Service"]["ExecStart"])
    assert as_written(embedded)[:3] == ["python", "manage.py", "serve"]


def test_the_image_starts_with_migrate_then_serve():
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))
    assert cmd[:2] == ["sh", "-c"]
    assert cmd[2].split(" && ") == ["python manage.py migrate --noinput",
                                    "exec python manage.py serve --addr 0.0.0.0:8000"]


def test_gunicorn_accepts_the_configuration_the_image_uses():
    check = [sys.executable, "-m", "gunicorn", "--config", "python:lanebridge.gunicorn", "--check-config"]
    done = subprocess.run(check, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.timeout(240)
def test_with_the_images_static_settings_pages_link_hashed_compressed_files_that_are_served(tmp_path):
    # The image's build step (collectstatic with hashed names), then its web command, run natively.
    env = {**embedded_env(tmp_path / "var"), "LANEBRIDGE_STATIC_MANIFEST": "1",
           "LANEBRIDGE_STATIC_ROOT": str(tmp_path / "staticfiles")}
    for args in (["collectstatic", "--noinput", "-v0"], ["migrate", "-v0"]):
        done = subprocess.run([sys.executable, MANAGE, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "staticfiles" / "staticfiles.json").exists()
    served = Served(env, free_port())
    try:
        page = requests.get(served.url + "/accounts/login/", timeout=10)
        linked = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
        assert linked and all(re.search(r"\.[0-9a-f]{12}\.\w+$", path) for path in linked), linked
        for path in linked:
            asset = requests.get(served.url + path, headers={"Accept-Encoding": "gzip"}, timeout=10)
            assert asset.status_code == 200, path
            assert "immutable" in asset.headers["Cache-Control"]
        assert "Traceback" not in served.output
    finally:
        served.stop()


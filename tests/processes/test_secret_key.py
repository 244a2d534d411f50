"""SECRET_KEY: a weak one stops the start unless DEBUG; without one, each installation generates its own."""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import subprocess
import sys

import pytest
from django.conf import settings

from lanebridge.security import OLD_DEV_KEY

# Prints a digest of the key Django ended up with, never the key itself.
SHOW_KEY = ("import hashlib, django; django.setup(); from django.conf import settings; "
            "print(hashlib.sha256(settings.SECRET_KEY.encode()).hexdigest())")


def start(var_dir, **env: str) -> subprocess.CompletedProcess:
    """Start Django the way every command does, in a fresh process with `env` and its own var/ directory."""
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    environment.update(DJANGO_SETTINGS_MODULE="lanebridge.settings", LANEBRIDGE_VAR=str(var_dir), **env)
    return subprocess.run([sys.executable, "-c", SHOW_KEY], env=environment, cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=60)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def test_without_a_key_an_installation_generates_one_readable_by_its_owner_only_and_keeps_it(tmp_path):
    first = start(tmp_path, DEBUG="0")
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "secret_key"
    key = key_file.read_text().strip()
    assert len(key) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.stdout.strip() == digest(key)
    assert start(tmp_path, DEBUG="0").stdout.strip() == digest(key)
    # Another installation gets another key.
    assert start(tmp_path / "other", DEBUG="0").stdout.strip() != digest(key)


@pytest.mark.parametrize("key, problem", [
    (OLD_DEV_KEY, "is the development key that shipped with Lanebridge"),
    ("django-insecure-" + secrets.token_urlsafe(50), "starts with 'django-insecure'"),
    ("s3cret-but-short", "has 16 characters; it needs at least 50"),
    ("abab" * 20, "has 2 distinct characters; it needs at least 5"),
])
def test_a_weak_key_stops_the_start_naming_the_problem(tmp_path, key, problem):
    result = start(tmp_path, DEBUG="0", SECRET_KEY=key)
    assert result.returncode != 0
    assert f"django.core.exceptions.ImproperlyConfigured: SECRET_KEY {problem}" in result.stderr
    assert key not in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_a_weak_key_is_accepted_for_development(tmp_path):
    result = start(tmp_path, DEBUG="1", SECRET_KEY=OLD_DEV_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == digest(OLD_DEV_KEY)


def test_a_strong_key_from_the_environment_is_used(tmp_path):
    key = secrets.token_urlsafe(50)
    result = start(tmp_path, DEBUG="0", SECRET_KEY=key)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == digest(key)
    assert not (tmp_path / "secret_key").exists()


def test_the_deploy_check_warns_that_a_generated_key_is_not_shared(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    environment.update(DEBUG="0", LANEBRIDGE_VAR=str(tmp_path), LANEBRIDGE_HTTPS="1", ALLOWED_HOSTS="example.com")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "lanebridge.W001" in result.stderr and "Set SECRET_KEY" in result.stderr

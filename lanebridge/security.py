"""The secret key, the Content-Security-Policy header and the checks that keep a deployment honest."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# The key every Lanebridge shipped with before keys were generated: anyone can read it in the history.
OLD_DEV_KEY = "dev-only-insecure-key-change-me"


def secret_key(var_dir: Path, debug: bool) -> str:
    """SECRET_KEY from the environment, else this installation's own key kept in `var_dir/secret_key`.

    A weak key from the environment is refused unless DEBUG is on: with it,
    anyone could forge sessions, password-reset links and CSRF tokens.
    """
    key = os.environ.get("SECRET_KEY", "")
    if not key:
        return _installation_key(var_dir / "secret_key")
    problem = weakness(key)
    if problem and not debug:
        raise ImproperlyConfigured(f"SECRET_KEY {problem}. Set it to a long random value, e.g. the output of "
                                   "python -c 'import secrets; print(secrets.token_urlsafe(50))'")
    return key


def weakness(key: str) -> str | None:
    """What makes `key` unfit to sign sessions (Django's own deploy check, plus the old built-in key), or None."""
    if key == OLD_DEV_KEY:
        return "is the development key that shipped with Lanebridge"
    if key.startswith("django-insecure"):
        return "starts with 'django-insecure', which marks a key meant for development"
    if len(key) < 50:
        return f"has {len(key)} characters; it needs at least 50"
    if len(set(key)) < 5:
        return f"has {len(set(key))} distinct characters; it needs at least 5"
    return None


def _installation_key(path: Path) -> str:
    if not path.exists():
        # Written aside and linked into place, so a process starting at the same moment
        # reads either no file or the whole key, and only one key ever wins.
        draft = path.with_name(f".secret_key.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


@checks.register(checks.Tags.security, deploy=True)
def check_secret_key_is_shared(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Warn when the key was generated on this machine, since other machines of the same setup sign with theirs."""
    if os.environ.get("SECRET_KEY"):
        return []
    return [checks.Warning(
        "SECRET_KEY is not set, so this machine signs with the key it generated in "
        f"{settings.VAR_DIR / 'secret_key'}.",
        hint="Set SECRET_KEY to the same long random value on every machine that serves or works for this "
             "installation, or sessions and links signed on one will not be accepted on another.",
        id="lanebridge.W001",
    )]


class ContentSecurityPolicy:
    """Send the Content-Security-Policy of settings.CONTENT_SECURITY_POLICY with every answer that has none.

    Pages load their scripts and styles from /static only, so an injected
    <script> or style attribute does not run.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


def throttle_rate(variable: str, default: str) -> str | None:
    """The rate in environment `variable` ("1200/min", "20/second"...), None for "off"; a typo stops the start."""
    rate = os.environ.get(variable, default).strip()
    if rate.lower() in ("", "0", "off", "none"):
        return None
    number, _, period = rate.partition("/")
    if not (number.isdigit() and int(number) > 0 and period and period[0] in "smhd"):
        raise ImproperlyConfigured(f"{variable}={rate!r}: write requests per period, like 1200/min, 20/second, "
                                   "5000/hour or 100000/day, or off")
    return rate

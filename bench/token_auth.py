"""What a hashed, scoped API token costs per request, beside a logged-in session in the same run.

Run: ``.venv/bin/python bench/token_auth.py [--requests N] [--rounds R]``. Prints figures; asserts nothing.

A throwaway SQLite database is migrated; one analyst gets a scoped token (``read``). Each round
times N ``GET /api/v1/definitions/`` through Django's test client, alternately with the token
header (hash, indexed lookup, scope check, last-used write at most once a minute) and with a
session (the baseline), so both sides see the same machine load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
URL = "/api/v1/definitions/"


def setup_django(db_path: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["SQLITE_PATH"] = db_path
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lanebridge.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def per_request_ms(client, requests: int, **headers) -> float:
    start = time.perf_counter()
    for _ in range(requests):
        response = client.get(URL, **headers)
        assert response.status_code == 200, response.content
    return (time.perf_counter() - start) * 1000 / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(str(Path(tmp) / "bench.sqlite3"))
        from django.contrib.auth.models import User
        from django.test import Client

        from accounts.models import ApiToken
        from accounts.tokens import create_token

        analyst = User.objects.create_user("analyst")
        token, secret = create_token(analyst, "bench", ["read"])
        session = Client()
        session.force_login(analyst)
        api = Client()
        token_ms, session_ms = [], []
        for _ in range(args.rounds):
            token_ms.append(per_request_ms(api, args.requests, HTTP_AUTHORIZATION=f"Token {secret}"))
            session_ms.append(per_request_ms(session, args.requests))
        ratios = [t / s for t, s in zip(token_ms, session_ms, strict=True)]
        token.refresh_from_db()
        print(f"{args.rounds} rounds × {args.requests} GET {URL}")
        print(f"  token (hashed, scoped):  {statistics.median(token_ms):6.2f} ms/request (median of rounds)")
        print(f"  session (baseline):      {statistics.median(session_ms):6.2f} ms/request")
        spread = f"{min(ratios):.2f}–{max(ratios):.2f}"
        print(f"  token / session:         {statistics.median(ratios):.2f} (rounds {spread})")
        print(f"  last_used_at written:    {token.last_used_at is not None} "
              f"(at most once a minute; tokens in the table: {ApiToken.objects.count()})")


if __name__ == "__main__":
    main()

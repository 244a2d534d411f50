"""A small JSON-RPC client for Tryton that speaks the connector error vocabulary.

Transport trouble (refused, timeout, 5xx, locked database, concurrent update)
becomes `RetryableError`; Tryton saying no (UserError, UserWarning,
AccessError) becomes `BusinessError` carrying Tryton's own message.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import threading
from decimal import Decimal
from typing import Any

import requests

from engine.connectors import BusinessError, RetryableError

# Tryton exception names that mean "the request was understood and refused".
BUSINESS_ERRORS = {
    "UserError": "ERP_USER_ERROR",
    "UserWarning": "ERP_USER_WARNING",
    "AccessError": "ERP_ACCESS_ERROR",
    "ValidationError": "ERP_VALIDATION_ERROR",
    "RequiredValidationError": "ERP_VALIDATION_ERROR",
    "DomainValidationError": "ERP_VALIDATION_ERROR",
    "SelectionValidationError": "ERP_VALIDATION_ERROR",
    "SizeValidationError": "ERP_VALIDATION_ERROR",
    "ForeignKeyError": "ERP_VALIDATION_ERROR",
    "SQLConstraintError": "ERP_VALIDATION_ERROR",
    "ImportDataError": "ERP_VALIDATION_ERROR",
}
# Tryton exception names that a retry may cure.
RETRYABLE_ERRORS = {"ConcurrencyException", "DatabaseOperationalError", "RateLimitException"}


class TrytonClient:
    """A logged-in session on one Tryton database; safe to share between threads."""

    def __init__(
        self, url: str, database: str, user: str, password: str, timeout: float = 30.0, error_prefix: str = "ERP"
    ):
        self.url = f"{url.rstrip('/')}/{database}/rpc/"
        self.database = database
        self.user = user
        self.password = password
        self.timeout = timeout
        self.error_prefix = error_prefix
        self._http = requests.Session()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._auth: str | None = None
        self.context: dict = {}

    def login(self) -> None:
        """Open a session and load the user's context (company, language, dates)."""
        result = self._post("common.db.login", [self.user, {"password": self.password}, "en"], auth=None)
        user_id, session = result[0], result[1]
        token = base64.b64encode(f"{self.user}:{user_id}:{session}".encode()).decode()
        self._auth = f"Session {token}"
        self.context = self._post("model.res.user.get_preferences", [True, {}], auth=self._auth)

    def call(self, method: str, *params: Any) -> Any:
        """Call `method` with `params`, logging in first and once more if the session expired."""
        with self._lock:
            if self._auth is None:
                self.login()
            auth = self._auth
        try:
            return self._post(method, list(params), auth=auth)
        except _SessionExpired:
            with self._lock:
                if self._auth == auth:
                    self.login()
                auth = self._auth
            try:
                return self._post(method, list(params), auth=auth)
            except _SessionExpired:
                # A fresh session refused too: the user may not call this method.
                raise BusinessError(
                    f"{self._name()} refused {method} to user {self.user!r}", code=self._code("ACCESS_DENIED")
                ) from None

    def model(self, model_name: str, method: str, *args: Any) -> Any:
        """Call ``model.<model_name>.<method>`` with `args` and the session context appended."""
        return self.call(f"model.{model_name}.{method}", *args, self.context)

    def search_read(
        self, model_name: str, domain: list, fields: list[str], *, limit: int | None = None, order: list | None = None
    ) -> list[dict]:
        """Return the `fields` of the records of `model_name` matching `domain`."""
        return self.model(model_name, "search_read", domain, 0, limit, order, fields)

    def _post(self, method: str, params: list, auth: str | None) -> Any:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = auth
        body = json.dumps({"method": method, "params": params, "id": next(self._ids)}, default=_encode)
        try:
            response = self._http.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.Timeout as exc:
            raise RetryableError(f"{self._name()} timed out on {method}", code=self._code("TIMEOUT")) from exc
        except requests.ConnectionError as exc:
            raise RetryableError(
                f"{self._name()} is unreachable at {self.url}", code=self._code("UNREACHABLE")
            ) from exc
        if response.status_code in (401, 403):
            if auth is None:
                raise BusinessError(
                    f"{self._name()} refused the login of {self.user!r}", code=self._code("LOGIN_FAILED")
                )
            raise _SessionExpired()
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableError(
                f"{self._name()} answered HTTP {response.status_code} on {method}",
                code=self._code("UNAVAILABLE"),
                details=response.text[:1000],
            )
        if response.status_code >= 400:
            raise BusinessError(
                f"{self._name()} answered HTTP {response.status_code} on {method}",
                code=self._code("HTTP_ERROR"),
                details=response.text[:1000],
            )
        try:
            payload = json.loads(response.text, object_hook=_decode)
        except ValueError as exc:
            raise RetryableError(
                f"{self._name()} sent a non-JSON answer to {method}",
                code=self._code("BAD_RESPONSE"),
                details=response.text[:1000],
            ) from exc
        if payload.get("error") is not None:
            raise self._error(method, payload["error"])
        return payload.get("result")

    def _error(self, method: str, error: Any) -> Exception:
        name, args = (error[0], error[1]) if isinstance(error, list) and len(error) == 2 else (str(error), [])
        if isinstance(args, str):
            # A non-Tryton exception comes back as [str(exception), traceback].
            name, args = "Exception", [name, args]
        message = str(args[0]) if args else str(name)
        details = {"tryton_error": name, "method": method, "args": args}
        if name in BUSINESS_ERRORS:
            code = BUSINESS_ERRORS[name].replace("ERP_", f"{self.error_prefix}_", 1)
            return BusinessError(message, code=code, details=details)
        if name in RETRYABLE_ERRORS or "database is locked" in message.lower():
            return RetryableError(f"{self._name()} is busy: {message}", code=self._code("BUSY"), details=details)
        # An unexpected server-side exception (traceback string): treat it as a
        # transient fault so the policy retries, then raises an incident.
        return RetryableError(
            f"{self._name()} failed on {method}: {message[:500]}", code=self._code("SERVER_ERROR"), details=details
        )

    def _name(self) -> str:
        return f"{self.error_prefix} ({self.database})"

    def _code(self, suffix: str) -> str:
        return f"{self.error_prefix}_{suffix}"


class _SessionExpired(Exception):
    pass


def _encode(value: Any) -> Any:
    # Tryton's JSON carries typed values as {"__class__": ...} objects.
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    raise TypeError(f"cannot send {type(value).__name__} to Tryton")


def _decode(obj: dict) -> Any:
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "datetime":
        return dt.datetime(
            obj["year"],
            obj["month"],
            obj["day"],
            obj.get("hour", 0),
            obj.get("minute", 0),
            obj.get("second", 0),
            obj.get("microsecond", 0),
        )
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    if kind == "timedelta":
        return dt.timedelta(seconds=obj["seconds"])
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


_clients: dict[tuple[str, str, str], TrytonClient] = {}
_clients_lock = threading.Lock()


def get_client(
    url: str, database: str, user: str, password: str, *, timeout: float = 30.0, error_prefix: str = "ERP"
) -> TrytonClient:
    """Return this process's shared client for (url, database, user), creating it on first use."""
    key = (url, database, user)
    with _clients_lock:
        client = _clients.get(key)
        if client is None or client.password != password:
            client = _clients[key] = TrytonClient(url, database, user, password, timeout, error_prefix)
        return client


def reset_clients() -> None:
    """Forget every cached client (tests point the connectors at another server)."""
    with _clients_lock:
        _clients.clear()

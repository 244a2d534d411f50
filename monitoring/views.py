"""Monitoring pages and the Prometheus endpoint."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST

from monitoring import metrics as metrics_module


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics behind `Authorization: Bearer <LANEBRIDGE_METRICS_TOKEN>`; 404 when no token is set."""
    token = settings.LANEBRIDGE_METRICS_TOKEN
    if not token:
        # Off unless configured: an endpoint without a secret would show every process to anyone.
        raise Http404("Metrics are off: set LANEBRIDGE_METRICS_TOKEN")
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        response = HttpResponse("Send Authorization: Bearer <token>\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return HttpResponse("Wrong token\n", status=403, content_type="text/plain")
    return HttpResponse(metrics_module.render(), content_type=CONTENT_TYPE_LATEST)

"""Messages and signals from other systems: the REST endpoints and the signed webhook.

All three answer with the same bodies and statuses (see `engine.messages`);
the webhook is for systems without an account and is authenticated by an HMAC
signature over its timestamp and raw body only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from django.conf import settings
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from engine import messages
from processes.api import JSONParser, require_perm

SEND_PERMISSION = "engine.send_message"
# A signed request older than this is refused, so a captured one cannot be replayed later.
MAX_SIGNATURE_AGE = 300

IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="The same key again returns the first answer; nothing is delivered or started twice.")


def _message_answer(body, user) -> messages.Answer:
    try:
        message = messages.parse_message(body)
    except messages.InvalidMessage as exc:
        return messages.Answer(400, {"error": str(exc), "field": exc.field})
    return messages.send_message(message, user)


def _signal_answer(body, user) -> messages.Answer:
    try:
        name, variables = messages.parse_signal(body)
    except messages.InvalidMessage as exc:
        return messages.Answer(400, {"error": str(exc), "field": exc.field})
    return messages.send_signal(name, variables, user)


class SendMessage(APIView):
    """Deliver a message to the instance waiting for it, start a process with it, or buffer it (`ttl`)."""

    required_scope = "messages:send"
    parser_classes = [JSONParser]

    @extend_schema(parameters=[IDEMPOTENCY], request=dict, responses={200: dict, 201: dict, 202: dict})
    def post(self, request):
        require_perm(request, SEND_PERMISSION)
        answer = messages.answer_once(f"user:{request.user.pk}", "message", request.headers.get("Idempotency-Key"),
                                      lambda: _message_answer(request.data, request.user))
        return Response(answer.body, status=answer.status)


class SendSignal(APIView):
    """Deliver a signal to every instance waiting for it and start every process with a signal start of that name."""

    required_scope = "signals:send"
    parser_classes = [JSONParser]

    @extend_schema(parameters=[IDEMPOTENCY], request=dict, responses={200: dict})
    def post(self, request):
        require_perm(request, SEND_PERMISSION)
        answer = messages.answer_once(f"user:{request.user.pk}", "signal", request.headers.get("Idempotency-Key"),
                                      lambda: _signal_answer(request.data, request.user))
        return Response(answer.body, status=answer.status)


def signature_problem(secret: str, timestamp: str, body: bytes, signature: str, now: float) -> str | None:
    """Why a webhook request's signature is not accepted, or None if it is.

    The signature is ``sha256=`` + hex HMAC-SHA256(secret, "<timestamp>." + body), and
    the timestamp (unix seconds) at most five minutes from now.
    """
    if not timestamp or not signature:
        return "X-Lanebridge-Timestamp and X-Lanebridge-Signature are required"
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "X-Lanebridge-Timestamp must be unix seconds"
    if abs(now - int(timestamp)) > MAX_SIGNATURE_AGE:
        return "X-Lanebridge-Timestamp is more than 5 minutes from now"
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(f"sha256={expected}", signature):
        return "X-Lanebridge-Signature does not match"
    return None


@csrf_exempt
@require_POST
def message_hook(request):
    """POST /hooks/messages/: the message API for systems without an account, signed with the shared secret."""
    secret = settings.LANEBRIDGE_WEBHOOK_SECRET
    if not secret:
        raise Http404("The message webhook is not enabled")
    problem = signature_problem(secret, request.headers.get("X-Lanebridge-Timestamp", ""), request.body,
                                request.headers.get("X-Lanebridge-Signature", ""), time.time())
    if problem:
        return JsonResponse({"error": problem}, status=401)
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        return JsonResponse({"error": "body: not valid JSON", "field": "body"}, status=400)
    answer = messages.answer_once("webhook", "message", request.headers.get("Idempotency-Key"),
                                  lambda: _message_answer(body, None))
    return JsonResponse(answer.body, status=answer.status)

"""One error shape for the API: {"error": "...", plus the field or element it is about}."""

from django.core.exceptions import ValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from approvals.services import NotAllowed
from engine.deploy import DeployError
from engine.migration import MigrationRefused
from engine.modify import ModifyError
from engine.repairs import IncidentNotOpen
from engine.runtime import Conflict, InstanceNotActive, InvalidVariables, ProcessNotFound, TaskNotOpen


def exception_handler(exc, context):
    """Turn the engine's and approvals' exceptions into clear 4xx answers."""
    if isinstance(exc, DeployError):
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ModifyError):
        return Response({"error": str(exc), "field": exc.field, "elements": exc.elements},
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, MigrationRefused):
        # Names the field (to_version, mapping.<element>) or the waiting elements without a counterpart.
        fields = {p["field"]: p["message"] for p in exc.problems if p.get("field")}
        return Response({"error": str(exc), "elements": [p["element_id"] for p in exc.problems if p.get("element_id")],
                         "problems": exc.problems, **({"fields": fields} if fields else {})},
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, InvalidVariables):
        return Response({"error": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"data": exc.messages}
        return Response({"error": "Invalid data", "fields": fields}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ProcessNotFound):
        return Response({"error": str(exc)}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, NotAllowed):
        return Response({"error": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, (TaskNotOpen, Conflict, InstanceNotActive, IncidentNotOpen)):
        return Response({"error": str(exc)}, status=status.HTTP_409_CONFLICT)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"error": response.data["detail"]}
    return response

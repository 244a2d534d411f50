"""REST API v1 of integrations: find instances by any system's id or their business key."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations import ledger
from processes.api import query_param
from processes.services import instances_for_user


class SearchResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="instance.pk")
    process_id = serializers.CharField(source="instance.definition.process_id")
    version = serializers.IntegerField(source="instance.definition.version")
    business_key = serializers.CharField(source="instance.business_key")
    state = serializers.CharField(source="instance.state")
    started_at = serializers.DateTimeField(source="instance.started_at")
    matched = serializers.SerializerMethodField()

    def get_matched(self, match: ledger.Match) -> list[dict]:
        return [{"kind": row.kind, "value": row.value} for row in match.ids]


class Search(APIView):
    """Instances the caller may read that touched the id `q` (any system's number, or a business key)."""

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True, description="an id or business key, any case")],
        responses={200: inline_serializer("SearchResponse", {
            "q": serializers.CharField(), "results": SearchResultSerializer(many=True)})},
    )
    def get(self, request):
        q = query_param(request, "q").strip()
        if not q:
            return Response({"error": "Give the id or business key to search for in the parameter 'q'",
                             "field": "q"}, status=status.HTTP_400_BAD_REQUEST)
        matches = ledger.search(q, instances_for_user(request.user))
        return Response({"q": q, "results": SearchResultSerializer(matches, many=True).data})

"""Request checks that apply to every page and endpoint."""

from django.http import HttpResponseBadRequest, JsonResponse

MESSAGE = "The address contains a NUL character, which no field accepts."


class RejectNulCharacters:
    """Answer 400 to a NUL character in the path or the query string.

    PostgreSQL cannot store or compare strings containing NUL, so such a value
    would otherwise reach a query and fail there as a server error. (Form
    fields already refuse NUL through Django's own validator.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.GET.items()):
            if request.path.startswith("/api/"):
                return JsonResponse({"error": MESSAGE}, status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

"""Apply the logged-in user's saved language on every browser, over the browser's own choice."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from approvals.models import UserPreference


class UserLanguageMiddleware:
    """Activate the user's saved language (UserPreference) for the request.

    Goes after AuthenticationMiddleware (it needs request.user). LocaleMiddleware has already
    activated the cookie's or Accept-Language's language; a saved preference overrides it, and
    LocaleMiddleware's response side then reports the active one in Content-Language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            language = (UserPreference.objects.filter(user=request.user)
                        .values_list("language", flat=True).first())
            # A language since dropped from settings falls back to the browser's choice.
            if language in dict(settings.LANGUAGES):
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)

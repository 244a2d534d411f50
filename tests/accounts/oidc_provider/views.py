"""The authorization endpoint, answering prompt=none for someone not logged in as OpenID Connect says."""

from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from oauth2_provider.models import Application
from oauth2_provider.views import AuthorizationView


class SilentAwareAuthorizationView(AuthorizationView):
    """django-oauth-toolkit sends everyone not logged in to its login page, even when asked not to prompt."""

    def dispatch(self, request, *args, **kwargs):
        if request.GET.get("prompt") == "none" and not request.user.is_authenticated:
            app = Application.objects.get(client_id=request.GET.get("client_id"))
            redirect_uri = request.GET.get("redirect_uri", "")
            if app.redirect_uri_allowed(redirect_uri):
                query = urlencode({"error": "login_required", "state": request.GET.get("state", "")})
                return HttpResponseRedirect(f"{redirect_uri}?{query}")
        return super().dispatch(request, *args, **kwargs)

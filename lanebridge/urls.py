from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import sso
from processes.events_api import message_hook


class ApiDocs(SpectacularSwaggerSplitView):
    """The API's documentation page, which is only read (its renderer has no page for an OPTIONS answer)."""

    http_method_names = ["get", "head"]


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", sso.LogoutView.as_view(), name="logout"),
    path("accounts/", include("accounts.urls")),
    path("oidc/", include(sso.urlpatterns)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file (?script), as the Content-Security-Policy requires.
    path("api/docs/", ApiDocs.as_view(url_name="schema", template_name="api/swagger_ui.html"),
         name="swagger-ui"),
    path("api/v1/", include("processes.api_urls")),
    path("api/v1/", include("integrations.api_urls")),
    path("hooks/messages/", message_hook, name="hook-messages"),
    path("api/v1/", include("monitoring.api_urls")),
    path("processes/", include("processes.urls")),
    path("", include("monitoring.urls")),
    path("", include("approvals.urls")),
]

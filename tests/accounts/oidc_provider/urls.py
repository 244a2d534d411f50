from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.accounts.oidc_provider.views import SilentAwareAuthorizationView

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("o/authorize/", SilentAwareAuthorizationView.as_view()),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]

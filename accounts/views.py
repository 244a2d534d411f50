"""The token page: list, create and revoke your own API tokens."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import audit, tokens
from accounts.forms import TokenForm
from accounts.models import ApiToken


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """Your tokens; a POST makes a new one and shows its secret this once."""
    form = TokenForm(request.user, request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        _token, secret = tokens.create_token(
            request.user, form.cleaned_data["name"], form.chosen_scopes(), form.cleaned_data["expires_days"],
            address=audit.address_of(request))
        form = TokenForm(request.user)
    status = 400 if request.method == "POST" and secret is None else 200
    context = {"form": form, "secret": secret, "tokens": request.user.api_tokens.all()}
    return render(request, "accounts/tokens.html", context, status=status)


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of your tokens."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    tokens.revoke_token(token, by=request.user, address=audit.address_of(request))
    messages.success(request, _("Token %(prefix)s… revoked.") % {"prefix": token.prefix})
    return redirect("accounts:tokens")


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page a login gets while its account is locked (django-axes' AXES_LOCKOUT_CALLABLE)."""
    minutes = settings.LANEBRIDGE["LOCKOUT_MINUTES"]
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "lockout_minutes": minutes}
    return render(request, "accounts/locked_out.html", context, status=429)

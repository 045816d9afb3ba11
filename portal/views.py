from django import forms
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from .celery import app as celery_app
from .middleware import mark_reauthenticated
from .selectors import units_of


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Where a login lands: payroll on its day's work, a manager on their orders."""
    if request.user.is_payroll:
        return redirect("today")
    if units_of(request.user).exists():
        return redirect("orders:list")
    return render(request, "portal/home.html")


class ReauthenticationForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request: HttpRequest, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        # Through the backends, django-axes included: wrong passwords here count towards
        # the lockout like those on the login page.
        user = auth.authenticate(
            self.request, username=self.request.user.get_username(), password=password
        )
        if user is None or user.pk != self.request.user.pk:
            raise forms.ValidationError(_("The password is not right."), code="wrong_password")
        return password


@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "POST"])
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Give the password again before approving a role (the municipality's login for
    single sign-on users, through portal.sso.oidc_reauthenticate)."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = resolve_url(settings.LOGIN_REDIRECT_URL)
    sso_user = bool(settings.SSO_ENABLED and request.user.sso_subject)
    form = ReauthenticationForm(
        request.POST if request.method == "POST" and not sso_user else None, request=request
    )
    if form.is_valid():
        mark_reauthenticated(request)
        return redirect(next_url)
    return render(
        request,
        "registration/reauthenticate.html",
        {
            "form": form,
            "next": next_url,
            "sso_user": sso_user,
            "reauth_minutes": max(1, settings.REAUTH_MAX_AGE_SECONDS // 60),
        },
    )


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For the load balancer and operators: can we reach the database and the broker?"""
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        return "unavailable"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception:
        return "unavailable"

import json
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from .celery import app as celery_app
from .demo import USERS as DEMO_USERS
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


class LoginForm(AuthenticationForm):
    """Django's login form. With single sign-on on, a name that may not use a password
    is told so before any password is checked."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if settings.SSO_ENABLED and username and not may_use_password(username):
            # Not through auth.authenticate(): the attempt cannot succeed, and django-axes
            # would count it (it listens for user_login_failed) and lock the person out
            # of the break-glass form for nothing. The answer depends on the name alone,
            # so it tells nobody whether an account exists.
            raise forms.ValidationError(
                _(
                    "Passwords are only for emergency access. Log in with the "
                    "municipality's login: the button above."
                ),
                code="single_sign_on_only",
            )
        return super().clean()


def may_use_password(username: str) -> bool:
    # As portal.sso.PasswordBackend decides, leniently about case: a break-glass name
    # typed in capitals goes on to the password check (and counts), never the reverse.
    allowed = {name.casefold() for name in settings.SSO_BREAK_GLASS_USERS}
    return not settings.SSO_ENABLED or username.casefold() in allowed


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    return auth_views.LoginView.as_view(
        authentication_form=LoginForm,
        redirect_authenticated_user=True,
        extra_context=_demo_login_hints() if settings.DEMO_MODE else {},
    )(request)


def _demo_login_hints() -> dict:
    """Which demo accounts log in how: the local test provider's accounts through the
    button, the local users with a password only while passwords are theirs to use."""
    sso_accounts = []
    if settings.SSO_DEV_PROVIDER:
        accounts = Path(settings.BASE_DIR) / "scripts" / "oidc" / "demo-accounts.json"
        sso_accounts = list(json.loads(accounts.read_text(encoding="utf-8")))
    return {
        "demo_sso_accounts": sso_accounts,
        "demo_password_users": [name for name in DEMO_USERS if may_use_password(name)],
    }


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

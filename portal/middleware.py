import time

import auditlog.middleware
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.template.defaultfilters import floatformat
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from .client_ip import client_ip

# Browser features the portal never uses, switched off so injected or embedded content
# cannot ask for them either. The clipboard stays allowed: the copy buttons use it.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def permissions_policy(get_response):
    def middleware(request):
        response = get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    return middleware


def private_pages(get_response):
    """Pages behind login hold personal data: never cached, by the browser or a proxy,
    and a full page and its htmx partial at one URL are kept apart."""

    def middleware(request):
        response = get_response(request)
        if getattr(request, "user", None) and request.user.is_authenticated:
            if "Cache-Control" not in response:
                # Sets "private" too, so a shared cache never keeps the page.
                add_never_cache_headers(response)
            patch_vary_headers(response, ["HX-Request"])
        return response

    return middleware


# --- Session times ---------------------------------------------------------------------

# When the session's user logged in (for the absolute lifetime) and when they last proved
# who they are (a login, or the password or the municipality's login given again).
LOGIN_AT = "portal_login_at"
AUTHENTICATED_AT = "portal_authenticated_at"


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[LOGIN_AT] = now
    request.session[AUTHENTICATED_AT] = now


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session[AUTHENTICATED_AT] = time.time()


def recently_authenticated(request: HttpRequest) -> bool:
    """Whether the user proved who they are within REAUTH_MAX_AGE_SECONDS: a session
    taken over (an unlocked screen, a stolen cookie) does not grant roles on its own."""
    at = request.session.get(AUTHENTICATED_AT)
    return at is not None and 0 <= time.time() - at <= settings.REAUTH_MAX_AGE_SECONDS


def session_lifetime(get_response):
    """Ends a session SESSION_ABSOLUTE_HOURS after its login however busy it is: the idle
    timeout alone lets a session used all the time (or a stolen cookie kept warm) live on."""

    def middleware(request):
        if request.user.is_authenticated:
            login_at = request.session.get(LOGIN_AT)
            if login_at is None:
                # A session from before the login time was recorded: counted from now.
                request.session[LOGIN_AT] = time.time()
            elif time.time() - login_at > settings.SESSION_ABSOLUTE_HOURS * 3600:
                auth.logout(request)
                messages.info(
                    request,
                    _(
                        "You have been logged out because you logged in more than "
                        "%(hours)s hours ago. Log in again."
                    )
                    % {"hours": floatformat(settings.SESSION_ABSOLUTE_HOURS, -1)},
                )
                if request.headers.get("HX-Request"):
                    return HttpResponseClientRedirect(resolve_url(settings.LOGIN_URL))
                return redirect_to_login(request.get_full_path())
        return get_response(request)

    return middleware


class AuditlogMiddleware(auditlog.middleware.AuditlogMiddleware):
    """django-auditlog records the leftmost X-Forwarded-For entry, which any client can
    write; the audit trail records the address the login lockout counts instead."""

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)

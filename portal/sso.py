"""Single sign-on through the municipality's OpenID Connect provider (Entra ID, AD FS).

mozilla-django-oidc runs the authorization code flow (state, nonce, PKCE); this module
adds what it leaves out (issuer, audience and expiry of the ID token with a tolerated
clock skew), keys users by the provider's subject id and sets their roles and
memberships from their groups at every login.
"""

import logging
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import requests
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.middleware import SessionRefresh
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from .middleware import mark_reauthenticated
from .models import GroupMapping, Membership, User

logger = logging.getLogger(__name__)


# --- Access from groups ---------------------------------------------------------------


@transaction.atomic
def sync_access_from_groups(*, user: User, groups: list[str]) -> None:
    """Set the user's roles and group-made memberships from the provider's groups.

    Hand-made memberships are kept; a group-made one whose group the user left goes. A
    mapping to the payroll or administrator role counts only once a second administrator
    has approved it (portal/roles.py)."""
    mappings = list(
        GroupMapping.objects.filter(group_id__in=set(groups)).filter(
            Q(grants=GroupMapping.Grants.MEMBERSHIP) | Q(approved=True)
        )
    )
    grants = {m.grants for m in mappings}
    is_payroll = GroupMapping.Grants.PAYROLL in grants
    is_admin = GroupMapping.Grants.ADMINISTRATOR in grants
    if (user.is_payroll, user.is_staff, user.is_superuser) != (is_payroll, is_admin, is_admin):
        user.is_payroll, user.is_staff, user.is_superuser = is_payroll, is_admin, is_admin
        user.save(update_fields=["is_payroll", "is_staff", "is_superuser"])

    wanted: dict[int, str] = {}
    for mapping in mappings:
        if mapping.grants == GroupMapping.Grants.MEMBERSHIP:
            # In two groups for one unit, the manager's role wins.
            if wanted.get(mapping.unit_id) != Membership.Role.MANAGER:
                wanted[mapping.unit_id] = mapping.membership_role
    existing = {m.unit_id: m for m in Membership.objects.select_for_update().filter(user=user)}
    for unit_id, membership in existing.items():
        if membership.source != Membership.Source.SSO:
            continue
        if unit_id not in wanted:
            membership.delete()
        elif membership.role != wanted[unit_id]:
            membership.role = wanted[unit_id]
            membership.save(update_fields=["role"])
    for unit_id, role in wanted.items():
        if unit_id not in existing:
            Membership.objects.create(
                user=user, unit_id=unit_id, role=role, source=Membership.Source.SSO
            )


class GroupsUnavailable(Exception):
    """Microsoft Graph did not give the user's groups; the login is refused."""


def groups_from_graph(access_token: str) -> list[str]:
    """Every group the user is in (transitively), from Microsoft Graph's getMemberGroups.
    Only a whole answer counts: partial groups would give partial, wrong access, and a
    person who left a group must not keep it because Graph was busy."""
    try:
        response = requests.post(
            settings.OIDC_GRAPH_MEMBER_GROUPS_URL,
            json={"securityEnabledOnly": True},
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=settings.OIDC_GRAPH_TIMEOUT,
        )
    except requests.RequestException as error:
        raise GroupsUnavailable(type(error).__name__) from None
    if response.status_code != 200:
        raise GroupsUnavailable(f"HTTP {response.status_code}")
    try:
        groups = response.json()["value"]
    except (ValueError, KeyError, TypeError):
        raise GroupsUnavailable("an answer without a list of groups") from None
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise GroupsUnavailable("an answer without a list of groups")
    return groups


def has_access(user: User) -> bool:
    return user.is_payroll or user.is_staff or user.memberships.exists()


# --- Authentication backends ------------------------------------------------------------


class PasswordBackend(ModelBackend):
    """Django's passwords, switched off when single sign-on is configured except for
    the named break-glass accounts. A single sign-on user never has a password."""

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user) or getattr(user, "sso_subject", None):
            return False
        return not settings.SSO_ENABLED or user.get_username() in settings.SSO_BREAK_GLASS_USERS


class OIDCBackend(OIDCAuthenticationBackend):
    def _verify_jws(self, payload, key):
        # The library checks only the signature; the issuer, audience and expiry are
        # what make a token signed for another application (or an old one) worthless here.
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation("ID token signed with an unexpected algorithm")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_OP_ISSUER,
                leeway=settings.OIDC_CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidTokenError as error:
            raise SuspiciousOperation(f"ID token refused: {error}") from error

    def get_userinfo(self, access_token, id_token, payload):
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload["sub"]:
            raise SuspiciousOperation("userinfo is about another subject than the ID token")
        claims = {**userinfo}
        group_claim = settings.OIDC_GROUPS_CLAIM
        if group_claim in payload:
            claims[group_claim] = payload[group_claim]
        if group_claim in (payload.get("_claim_names") or {}):
            # Entra ID: more than 200 groups, so none in the token. The token's
            # _claim_sources names the old Azure AD Graph; Microsoft Graph replaces it.
            claims[group_claim] = groups_from_graph(access_token)
        return claims

    def verify_claims(self, claims) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        return User.objects.filter(sso_subject=claims["sub"])

    def create_user(self, claims):
        user = User(sso_subject=claims["sub"], username=self._free_username(claims))
        user.set_unusable_password()
        self._copy_claims(user, claims)
        user.save()
        sync_access_from_groups(user=user, groups=self._groups(claims))
        return user

    def update_user(self, user, claims):
        self._copy_claims(user, claims)
        user.save(update_fields=["first_name", "last_name", "email"])
        sync_access_from_groups(user=user, groups=self._groups(claims))
        return user

    def get_user(self, user_id):
        # A user deactivated in the portal loses every session at its next request.
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None

    @staticmethod
    def _groups(claims) -> list[str]:
        groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
        return [str(g) for g in groups] if isinstance(groups, list) else [str(groups)]

    @staticmethod
    def _copy_claims(user: User, claims) -> None:
        user.first_name = (claims.get("given_name") or "")[:150]
        user.last_name = (claims.get("family_name") or "")[:150]
        if not (user.first_name or user.last_name) and claims.get("name"):
            user.first_name = claims["name"][:150]
        user.email = (claims.get("email") or "")[:254]

    @staticmethod
    def _free_username(claims) -> str:
        # A readable name when free; never taken over from an existing (local) account.
        wanted = (claims.get("preferred_username") or claims.get("email") or "")[:140]
        if wanted and not User.objects.filter(username__iexact=wanted).exists():
            return wanted
        return f"sso-{secrets.token_hex(6)}"


# --- Views ---------------------------------------------------------------------------


class CallbackView(OIDCAuthenticationCallbackView):
    def get(self, request):
        try:
            return super().get(request)
        except GroupsUnavailable as error:
            logger.warning("Single sign-on refused: groups not read from Graph (%s)", error)
            messages.error(
                self.request,
                _(
                    "The municipality's login could not tell which groups you are in right "
                    "now, so you have not been logged in. Try again in a few minutes; if it "
                    "goes on, contact %(contact)s."
                )
                % {"contact": settings.SSO_ACCESS_CONTACT or settings.PAYROLL_CONTACT},
            )
            return redirect("login")
        except (SuspiciousOperation, requests.RequestException) as error:
            logger.warning("Single sign-on refused: %s", error)
            return self.login_failure()

    def login_success(self):
        # Also reached by GroupRecheck's silent re-login, which has just synced the groups:
        # a person who left every mapped group is logged out here.
        if not has_access(self.user):
            if self.request.user.is_authenticated:
                auth.logout(self.request)
            return redirect("sso_no_access")
        state = self.request.GET.get("state")
        asked_again = bool(state) and self.request.session.pop(REAUTH_STATE, None) == state
        response = super().login_success()
        if asked_again and self.request.user == self.user:
            mark_reauthenticated(self.request)
        return response

    def login_failure(self):
        messages.error(self.request, _("The login through the municipality failed. Try again."))
        return redirect("login")


def oidc_login(request: HttpRequest) -> HttpResponse:
    if not settings.SSO_ENABLED:
        raise Http404
    return OIDCAuthenticationRequestView.as_view()(request)


def oidc_callback(request: HttpRequest) -> HttpResponse:
    if not settings.SSO_ENABLED:
        raise Http404
    return CallbackView.as_view()(request)


# The state of the authorization request that asked the provider for the credentials
# again: only the answer to that request counts as a re-authentication, never a silent
# session refresh.
REAUTH_STATE = "portal_reauth_state"


class ReauthenticationRequestView(OIDCAuthenticationRequestView):
    def get_extra_params(self, request):
        # prompt=login and max_age=0: the provider must ask for the credentials again
        # rather than answer from its own session (OpenID Connect Core 3.1.2.1).
        return {**super().get_extra_params(request), "prompt": "login", "max_age": "0"}


@login_required
@require_GET
def oidc_reauthenticate(request: HttpRequest) -> HttpResponse:
    """A single sign-on user proves who they are again at the provider."""
    if not (settings.SSO_ENABLED and request.user.sso_subject):
        raise Http404
    response = ReauthenticationRequestView.as_view()(request)
    query = parse_qs(urlsplit(response["Location"]).query)
    request.session[REAUTH_STATE] = query["state"][0]
    return response


class GroupRecheck(SessionRefresh):
    """mozilla-django-oidc's session refresh: after SSO_RECHECK_MINUTES (the library's
    OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS) a single sign-on session is sent silently
    (prompt=none) through the provider, whose answer re-syncs the person's groups, so a
    person removed from a group loses the role or unit within that time. Unlike the
    library it re-checks before any request, not only before page views: a removed
    administrator must not go on changing things."""

    def process_request(self, request):
        if not settings.SSO_ENABLED:
            return None
        # The library reads these once at start; the settings' own values count.
        self.OIDC_OP_AUTHORIZATION_ENDPOINT = settings.OIDC_OP_AUTHORIZATION_ENDPOINT
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_SCOPES = settings.OIDC_RP_SCOPES
        response = super().process_request(request)
        htmx = request.headers.get("HX-Request") == "true"
        if response is None or response.status_code != 302 or request.method == "GET" and not htmx:
            return response
        # After the provider's answer the browser comes back with a GET: to the page it
        # was on, not to the address of a form or an htmx fragment.
        page = request.headers.get("HX-Current-URL") or request.headers.get("Referer") or ""
        if not url_has_allowed_host_and_scheme(page, allowed_hosts={request.get_host()}):
            page = reverse("home")
        request.session["oidc_login_next"] = page
        if htmx:
            return HttpResponseClientRedirect(response["Location"])
        return response

    def is_refreshable_url(self, request):
        backend = request.session.get(BACKEND_SESSION_KEY)
        return (
            request.user.is_authenticated
            and bool(backend)
            and issubclass(import_string(backend), OIDCAuthenticationBackend)
            and request.path not in self.exempt_urls
        )

    @cached_property
    def exempt_urls(self):
        names = [
            "oidc_authentication_init",
            "oidc_authentication_callback",
            "oidc_reauthenticate",
            "sso_no_access",
            "logout",
        ]
        return {reverse(name) for name in names}


@require_GET
def no_access(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "registration/no_access.html",
        {"contact": settings.SSO_ACCESS_CONTACT or settings.PAYROLL_CONTACT},
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Ends the portal's session and, after a single sign-on, the provider's too."""
    id_token = request.session.get("oidc_id_token")
    if not (settings.SSO_ENABLED and id_token and settings.OIDC_OP_LOGOUT_ENDPOINT):
        return auth_views.LogoutView.as_view()(request)
    auth.logout(request)
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
    )
    return redirect(f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{query}")

"""Single sign-on against a real OpenID provider (npm's oidc-provider) on loopback."""

import base64
import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils.translation import gettext

from portal.models import GroupMapping, Membership, User

from ..factories import MembershipFactory, UserFactory
from ..oidc_provider import (
    OTHER_CLIENT_ID,
    forms_of,
    portal_settings,
    sign_in_at_provider,
    start_provider,
    stop_provider,
)

SCHOOL_GROUP = "6f1c2a9e-school-managers"
PAYROLL_GROUP = "0b7d-payroll"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    provider = start_provider(tmp_path_factory.mktemp("oidc") / "accounts.json")
    yield provider
    stop_provider(provider)


@pytest.fixture
def sso(settings, oidc_provider, db):
    portal_settings(settings, oidc_provider)
    return oidc_provider


@pytest.fixture
def school_group(school):
    return GroupMapping.objects.create(
        group_id=SCHOOL_GROUP,
        label="Ledere, Nordskolen",
        unit=school,
        membership_role=Membership.Role.MANAGER,
    )


def log_in(client, provider, login, *, browser=None):
    start = client.get(reverse("oidc_authentication_init"))
    assert start.status_code == 302
    back = sign_in_at_provider(start["Location"], login, browser)
    parts = urlsplit(back)
    return client.get(f"{parts.path}?{parts.query}")


def sso_force_login(client, user):
    """A session as the callback leaves it: logged in through the provider, groups read now."""
    from django.conf import settings

    client.force_login(user, backend="portal.sso.OIDCBackend")
    session = client.session
    session["oidc_id_token_expiration"] = time.time() + settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS
    session.save()


def test_the_authorization_request_uses_pkce_state_and_nonce(client, sso):
    response = client.get(reverse("oidc_authentication_init"))
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0]
    assert query["response_type"] == ["code"]


def test_first_login_creates_the_user_keyed_by_subject_with_the_units_of_their_groups(
    client, sso, school_group
):
    sso.set_account(
        "mette.h",
        groups=[SCHOOL_GROUP, "unmapped-group"],
        name="Mette Hansen",
        email="mette@kommune.example",
    )

    response = log_in(client, sso, "mette.h")

    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = User.objects.get(sso_subject="mette.h")
    assert (user.first_name, user.last_name, user.email) == (
        "Mette",
        "Hansen",
        "mette@kommune.example",
    )
    assert not user.has_usable_password()
    membership = user.memberships.get()
    assert (membership.unit, membership.role, membership.source) == (
        school_group.unit,
        Membership.Role.MANAGER,
        Membership.Source.SSO,
    )
    assert client.get(reverse("orders:list")).status_code == 200


def test_the_same_subject_is_the_same_user_even_when_the_email_changes(client, sso, school_group):
    sso.set_account("sub-42", groups=[SCHOOL_GROUP], email="old@kommune.example")
    log_in(client, sso, "sub-42")
    sso.set_account("sub-42", groups=[SCHOOL_GROUP], email="new@kommune.example")
    client.logout()

    log_in(client, sso, "sub-42")

    assert User.objects.filter(sso_subject="sub-42").count() == 1
    assert User.objects.get(sso_subject="sub-42").email == "new@kommune.example"


def test_an_email_matching_a_local_account_does_not_take_it_over(client, sso, school_group):
    local = UserFactory(username="admin", email="admin@kommune.example", is_staff=True)
    sso.set_account("admin", groups=[SCHOOL_GROUP], email="admin@kommune.example")

    log_in(client, sso, "admin")

    sso_user = User.objects.get(sso_subject="admin")
    assert sso_user.pk != local.pk and sso_user.username != "admin"
    assert not sso_user.is_staff


def test_leaving_the_group_loses_the_unit_at_the_next_login_and_hand_made_ones_stay(
    client, sso, school_group, care_home
):
    sso.set_account("jens", groups=[SCHOOL_GROUP])
    log_in(client, sso, "jens")
    user = User.objects.get(sso_subject="jens")
    MembershipFactory(user=user, unit=care_home)  # made by hand in the admin
    client.logout()
    sso.set_account("jens", groups=[])

    log_in(client, sso, "jens")

    assert list(user.memberships.values_list("unit__name", "source")) == [
        ("Plejecenter Solgården", Membership.Source.MANUAL)
    ]


def test_nobody_with_no_mapped_group_gets_in_and_they_are_told_whom_to_ask(client, sso, settings):
    settings.SSO_ACCESS_CONTACT = "IT-support, tlf. 70 11 22 33"
    sso.set_account("stranger", groups=["some-other-group"])

    response = log_in(client, sso, "stranger")

    assert response["Location"] == reverse("sso_no_access")
    page = client.get(response["Location"]).content.decode()
    # Danish once locale/da has the string ("Du har endnu ikke adgang").
    assert gettext("No access yet") in page and "IT-support, tlf. 70 11 22 33" in page
    assert client.get(reverse("orders:list")).status_code == 302


def test_roles_follow_the_groups_at_every_login(client, sso):
    GroupMapping.objects.create(
        group_id=PAYROLL_GROUP, grants=GroupMapping.Grants.PAYROLL, approved=True
    )
    sso.set_account("lone", groups=[PAYROLL_GROUP])
    log_in(client, sso, "lone")
    assert User.objects.get(sso_subject="lone").is_payroll
    client.logout()

    sso.set_account("lone", groups=[])
    log_in(client, sso, "lone")

    assert not User.objects.get(sso_subject="lone").is_payroll


def test_logout_ends_the_session_here_and_at_the_provider(client, sso, school_group):
    sso.set_account("per", groups=[SCHOOL_GROUP])
    browser = requests.Session()
    log_in(client, sso, "per", browser=browser)
    session_key = client.session.session_key

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    end_session = response["Location"]
    assert end_session.startswith(f"{sso.url}/session/end?")
    assert "id_token_hint=" in end_session
    assert not Session.objects.filter(session_key=session_key).exists()
    assert client.get(reverse("orders:list")).status_code == 302
    confirm = browser.get(end_session)
    form = forms_of(confirm.text)[0]
    done = browser.post(
        requests.compat.urljoin(confirm.url, form["action"]),
        data={**form["fields"], "logout": "yes"},
        allow_redirects=False,
    )
    assert done.headers["Location"] == "http://testserver/log-ind/"


class TokenProxy:
    """Between the portal and the provider's token endpoint, like an attacker who can
    change what comes back: `change(body)` rewrites the provider's answer."""

    def __init__(self, token_endpoint):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                answer = requests.post(
                    token_endpoint,
                    data=body,
                    headers={"Content-Type": self.headers["Content-Type"]},
                ).json()
                payload = json.dumps(proxy.change(answer)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.change = lambda answer: answer
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def token_proxy(sso, settings):
    proxy = TokenProxy(settings.OIDC_OP_TOKEN_ENDPOINT)
    settings.OIDC_OP_TOKEN_ENDPOINT = proxy.url
    yield proxy
    proxy.server.shutdown()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_tampered_id_token_is_refused(client, sso, token_proxy, school_group):
    GroupMapping.objects.create(
        group_id=PAYROLL_GROUP, grants=GroupMapping.Grants.PAYROLL, approved=True
    )
    sso.set_account("eve", groups=[SCHOOL_GROUP])

    def add_payroll_group(answer):
        header, payload, signature = answer["id_token"].split(".")
        claims = json.loads(unb64(payload))
        claims["groups"] = [SCHOOL_GROUP, PAYROLL_GROUP]
        answer["id_token"] = ".".join([header, b64(json.dumps(claims).encode()), signature])
        return answer

    token_proxy.change = add_payroll_group
    response = log_in(client, sso, "eve")

    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(sso_subject="eve").exists()


def test_an_id_token_issued_to_another_application_is_refused(
    client, sso, token_proxy, school_group
):
    sso.set_account("mallory", groups=[SCHOOL_GROUP])
    start = client.get(reverse("oidc_authentication_init"))
    # The same person, the same nonce, a genuine token from the same provider: but for
    # another application, which could replay it here.
    other = requests.Session()
    query = parse_qs(urlsplit(start["Location"]).query)
    verifier = "o" * 50
    challenge = b64(__import__("hashlib").sha256(verifier.encode()).digest())
    other_url = (
        requests.Request(
            "GET",
            f"{sso.url}/auth",
            params={
                "client_id": OTHER_CLIENT_ID,
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": "http://127.0.0.1:9/cb",
                "state": "x",
                "nonce": query["nonce"][0],
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        .prepare()
        .url
    )
    code = parse_qs(urlsplit(sign_in_at_provider(other_url, "mallory", other)).query)["code"][0]
    other_token = requests.post(
        f"{sso.url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1:9/cb",
            "client_id": OTHER_CLIENT_ID,
            "client_secret": "other-secret",
            "code_verifier": verifier,
        },
    ).json()["id_token"]
    assert json.loads(unb64(other_token.split(".")[1]))["aud"] == OTHER_CLIENT_ID

    token_proxy.change = lambda answer: {**answer, "id_token": other_token}
    back = sign_in_at_provider(start["Location"], "mallory")
    response = client.get(f"{urlsplit(back).path}?{urlsplit(back).query}")

    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_a_replayed_callback_is_refused(client, sso, school_group):
    sso.set_account("replay", groups=[SCHOOL_GROUP])
    start = client.get(reverse("oidc_authentication_init"))
    back = urlsplit(sign_in_at_provider(start["Location"], "replay"))
    client.get(f"{back.path}?{back.query}")
    client.logout()

    response = client.get(f"{back.path}?{back.query}")

    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_a_user_deactivated_in_the_portal_loses_the_session_at_once(client, sso, school_group):
    sso.set_account("anne", groups=[SCHOOL_GROUP])
    log_in(client, sso, "anne")
    assert client.get(reverse("orders:list")).status_code == 200

    User.objects.filter(sso_subject="anne").update(is_active=False)

    assert client.get(reverse("orders:list")).status_code == 302
    assert log_in(client, sso, "anne")["Location"] == reverse("login")


def test_with_sso_on_only_break_glass_accounts_use_a_password(
    client, settings, sso, school_manager
):
    UserFactory(username="noedadgang", is_staff=True, is_superuser=True)
    settings.SSO_BREAK_GLASS_USERS = ["noedadgang"]
    login = reverse("login")

    refused = client.post(login, {"username": "leder.a", "password": "secret-password-1"})
    allowed = client.post(login, {"username": "noedadgang", "password": "secret-password-1"})

    assert refused.status_code == 200
    assert allowed.status_code == 302


def test_with_sso_on_a_password_for_any_other_name_is_refused_plainly_and_not_counted(
    client, settings, sso, school_manager
):
    UserFactory(username="noedadgang", is_staff=True, is_superuser=True)
    settings.SSO_BREAK_GLASS_USERS = ["noedadgang"]
    login = reverse("login")

    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        refused = client.post(login, {"username": "leder.a", "password": "secret-password-1"})
    unknown = client.post(login, {"username": "ingen.saadan", "password": "x"})
    guessed = client.post(login, {"username": "noedadgang", "password": "guess"})

    message = "Adgangskoder er kun til nødadgang. Log ind med kommunens login"
    assert refused.status_code == 200 and message in refused.content.decode()
    # The same answer whether the account exists or not.
    assert message in unknown.content.decode()
    assert message not in guessed.content.decode()
    # Only the break-glass account's wrong password counts towards its lockout.
    assert [(a.username, a.failures_since_start) for a in AccessAttempt.objects.all()] == [
        ("noedadgang", 1)
    ]


def test_the_demo_login_page_sends_demo_users_to_the_local_providers_button(client, settings, sso):
    settings.DEMO_MODE = True
    settings.SSO_DEV_PROVIDER = "http://127.0.0.1:8010"
    settings.SSO_BREAK_GLASS_USERS = ["admin"]

    page = client.get(reverse("login")).content.decode()

    assert "tryk på “Log ind med kommunens login”" in page
    for account in ("leder.sso", "sekretaer.sso", "loen.sso", "admin.sso"):
        assert f"<code>{account}</code>" in page
    assert "Nødadgang med adgangskode (adgangskode: demo): <code>admin</code></p>" in page
    assert "<code>leder.skole</code>" not in page


def test_the_demo_login_page_without_sso_names_every_local_demo_user(client, settings, db):
    settings.DEMO_MODE = True

    page = client.get(reverse("login")).content.decode()

    assert "Demobrugere (adgangskode: demo):" in page
    assert "<code>leder.skole</code>" in page and "<code>admin2</code>" in page
    assert "leder.sso" not in page


def test_a_local_password_session_ends_when_sso_is_switched_on(
    client, settings, oidc_provider, school_manager
):
    client.force_login(school_manager, backend="portal.sso.PasswordBackend")
    assert client.get(reverse("orders:list")).status_code == 200

    portal_settings(settings, oidc_provider)

    assert client.get(reverse("orders:list")).status_code == 302


def test_the_login_page_offers_the_municipalitys_login(client, sso):
    page = client.get(reverse("login")).content.decode()
    assert reverse("oidc_authentication_init") in page
    assert gettext("Log in with the municipality's login") in page


def test_without_sso_the_oidc_urls_do_not_exist(client, db):
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback")).status_code == 404


def test_a_clock_a_little_off_is_tolerated_but_an_expired_token_is_not(settings, sso):
    import time

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.core.exceptions import SuspiciousOperation

    from portal.sso import OIDCBackend

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    backend = OIDCBackend()

    def token(expired_seconds_ago):
        now = int(time.time())
        claims = {
            "iss": settings.OIDC_OP_ISSUER,
            "aud": settings.OIDC_RP_CLIENT_ID,
            "sub": "s",
            "iat": now - 600,
            "exp": now - expired_seconds_ago,
        }
        return jwt.encode(claims, key, algorithm="RS256")

    assert backend._verify_jws(token(60), key.public_key())["sub"] == "s"
    with pytest.raises(SuspiciousOperation):
        backend._verify_jws(token(settings.OIDC_CLOCK_SKEW_SECONDS + 60), key.public_key())


def test_a_payroll_group_mapped_in_the_admin_gives_nothing_until_a_second_admin_approves(
    client, sso, mailoutbox, django_capture_on_commit_callbacks, tasks_in_process
):
    from django.test import Client

    from portal.models import RoleGrant

    first, second = (
        UserFactory(username=name, is_staff=True, is_superuser=True)
        for name in ("adm.one", "adm.two")
    )
    first_admin, second_admin = Client(), Client()
    sso_force_login(first_admin, first)
    sso_force_login(second_admin, second)
    sso.set_account("lone.l", groups=[PAYROLL_GROUP])

    with django_capture_on_commit_callbacks(execute=True):
        first_admin.post(
            reverse("admin:portal_groupmapping_add"),
            {"group_id": PAYROLL_GROUP, "label": "Løn", "grants": "payroll"},
        )
    refused = log_in(client, sso, "lone.l")

    assert refused["Location"] == reverse("sso_no_access")
    assert not User.objects.get(sso_subject="lone.l").is_payroll
    grant = RoleGrant.objects.get(state=RoleGrant.State.PROPOSED)
    own = first_admin.post(
        reverse("admin:portal_rolegrant_changelist"),
        {"action": "approve", "_selected_action": [grant.pk]},
        follow=True,
    )
    assert gettext("Another administrator must decide.") in own.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        second_admin.post(
            reverse("admin:portal_rolegrant_changelist"),
            {"action": "approve", "_selected_action": [grant.pk]},
        )
    client.logout()

    allowed = log_in(client, sso, "lone.l")

    assert allowed["Location"] == reverse("home")
    assert User.objects.get(sso_subject="lone.l").is_payroll
    proposed, approved = mailoutbox
    assert PAYROLL_GROUP in proposed.subject and PAYROLL_GROUP in approved.body
    assert {first.email, second.email} <= set(approved.to)


MANY_GROUPS = [SCHOOL_GROUP, *(f"other-group-{i:03d}" for i in range(249))]


@pytest.fixture
def graph(settings, httpserver):
    """Microsoft Graph on loopback: getMemberGroups for the signed-in user."""
    settings.OIDC_GRAPH_MEMBER_GROUPS_URL = httpserver.url_for("/v1.0/me/getMemberGroups")
    settings.OIDC_GRAPH_TIMEOUT = 0.5
    return httpserver


def test_past_200_groups_they_are_read_from_microsoft_graph(client, sso, graph, school_group):
    from werkzeug import Response

    sso.set_account("many.groups", groups=MANY_GROUPS)
    seen = []

    def member_groups(request):
        seen.append((request.headers["Authorization"], request.get_json()))
        return Response(json.dumps({"value": MANY_GROUPS}), content_type="application/json")

    graph.expect_oneshot_request("/v1.0/me/getMemberGroups", method="POST").respond_with_handler(
        member_groups
    )

    response = log_in(client, sso, "many.groups")

    assert response["Location"] == reverse("home")
    authorization, body = seen[0]
    assert authorization.startswith("Bearer ") and len(authorization) > 20
    assert body == {"securityEnabledOnly": True}
    user = User.objects.get(sso_subject="many.groups")
    assert list(user.memberships.values_list("unit", flat=True)) == [school_group.unit_id]


@pytest.mark.parametrize(
    "respond",
    [
        lambda r: r.respond_with_data(
            '{"error":{"code":"TooManyRequests"}}', status=429, headers={"Retry-After": "30"}
        ),
        lambda r: r.respond_with_data("", status=500),
        lambda r: r.respond_with_data("", status=503),
        lambda r: r.respond_with_data('{"value": "not a list"}', content_type="application/json"),
    ],
)
def test_when_graph_fails_the_login_is_refused_rather_than_given_partial_groups(
    client, sso, graph, school_group, respond
):
    sso.set_account("busy.graph", groups=MANY_GROUPS)
    respond(graph.expect_oneshot_request("/v1.0/me/getMemberGroups"))

    response = log_in(client, sso, "busy.graph")

    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(sso_subject="busy.graph").exists()
    page = client.get(response["Location"]).content.decode()
    assert "kunne ikke se, hvilke grupper du er i" in page


def test_when_graph_fails_a_known_user_keeps_no_session_and_their_access_is_unchanged(
    client, sso, graph, school_group
):
    sso.set_account("known", groups=[SCHOOL_GROUP])
    log_in(client, sso, "known")
    client.logout()
    sso.set_account("known", groups=MANY_GROUPS[1:] + ["x"])  # left the school's group
    graph.expect_oneshot_request("/v1.0/me/getMemberGroups").respond_with_data("", status=503)

    response = log_in(client, sso, "known")

    assert response["Location"] == reverse("login")
    assert client.get(reverse("orders:list")).status_code == 302


# --- Groups re-checked during the session -------------------------------------------------


def test_a_person_removed_from_the_payroll_group_loses_it_within_the_recheck_time(
    client, sso, settings
):
    settings.SSO_RECHECK_MINUTES = 15
    settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS = 15 * 60
    GroupMapping.objects.create(
        group_id=PAYROLL_GROUP, grants=GroupMapping.Grants.PAYROLL, approved=True
    )
    sso.set_account("lone.r", groups=[PAYROLL_GROUP])
    browser = requests.Session()  # keeps the provider's own session, as a browser does
    start = datetime.datetime.now(datetime.UTC)
    with time_machine.travel(start):
        log_in(client, sso, "lone.r", browser=browser)
    assert client.get(reverse("payroll:batches")).status_code == 200
    sso.set_account("lone.r", groups=[])  # removed from the group at the provider

    with time_machine.travel(start + datetime.timedelta(minutes=16)):
        recheck = client.get(reverse("payroll:batches"))
        assert recheck["Location"].startswith(f"{sso.url}/auth")
        assert parse_qs(urlsplit(recheck["Location"]).query)["prompt"] == ["none"]
        back = urlsplit(sign_in_at_provider(recheck["Location"], "lone.r", browser))
        answer = client.get(f"{back.path}?{back.query}")

        assert answer["Location"] == reverse("sso_no_access")
        assert not User.objects.get(sso_subject="lone.r").is_payroll
        assert client.get(reverse("payroll:batches")).status_code == 302


def test_a_form_sent_after_the_recheck_time_goes_through_the_provider_first(
    client, sso, settings, school_group
):
    sso.set_account("hanne", groups=[SCHOOL_GROUP])
    start = datetime.datetime.now(datetime.UTC)
    with time_machine.travel(start):
        log_in(client, sso, "hanne")

    with time_machine.travel(
        start + datetime.timedelta(seconds=settings.OIDC_RENEW_ID_TOKEN_EXPIRY_SECONDS + 60)
    ):
        response = client.post(reverse("welcome_dismiss"), HTTP_REFERER="http://testserver/")

    assert response.status_code == 302 and response["Location"].startswith(f"{sso.url}/auth")
    assert client.session["oidc_login_next"] == "http://testserver/"


def test_an_sso_administrator_logs_in_again_at_the_provider_to_approve_a_role(
    client, sso, settings, admin_user
):
    from portal.models import RoleGrant
    from portal.roles import propose_role

    settings.REAUTH_MAX_AGE_SECONDS = 300
    admin_group = "adm-group"
    GroupMapping.objects.create(
        group_id=admin_group, grants=GroupMapping.Grants.ADMINISTRATOR, approved=True
    )
    sso.set_account("bo.adm", groups=[admin_group])
    clerk = UserFactory(username="ny.kollega")
    grant = propose_role(user=clerk, role=RoleGrant.Role.PAYROLL, by=admin_user)
    browser = requests.Session()
    start = datetime.datetime.now(datetime.UTC)
    with time_machine.travel(start):
        log_in(client, sso, "bo.adm", browser=browser)

    with time_machine.travel(start + datetime.timedelta(minutes=6)):
        asked = client.post(
            reverse("admin:portal_rolegrant_changelist"),
            {"action": "approve", "_selected_action": [grant.pk]},
        )
        page = client.get(asked["Location"]).content.decode()
        assert reverse("oidc_reauthenticate") in page
        start_again = client.get(f"{reverse('oidc_reauthenticate')}?next=/admin/")
        query = parse_qs(urlsplit(start_again["Location"]).query)
        assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
        back = urlsplit(sign_in_at_provider(start_again["Location"], "bo.adm", browser))
        assert client.get(f"{back.path}?{back.query}")["Location"] == "/admin/"
        client.post(
            reverse("admin:portal_rolegrant_changelist"),
            {"action": "approve", "_selected_action": [grant.pk]},
        )

    clerk.refresh_from_db()
    assert clerk.is_payroll

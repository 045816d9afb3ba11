"""The two-administrator rule for roles holds only while one administrator cannot become
another: no setting of another's password or e-mail, break-glass accounts out of reach of
single sign-on administrators, and an approval only right after proving who one is."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import RoleGrant, User
from portal.roles import propose_role

from ..factories import UserFactory

TAKE_OVER_REFUSED = "Du kan ikke ændre en anden administrators eller lønbrugers adgangskode"


@pytest.fixture
def second_admin(db):
    return UserFactory(username="admin2", is_staff=True, is_superuser=True)


def password_page(user: User) -> str:
    return reverse("admin:auth_user_password_change", args=[user.pk])


def set_password(client, user, password="taken-over-9"):
    return client.post(
        password_page(user),
        {"password1": password, "password2": password, "usable_password": "true"},
        follow=True,
    )


@pytest.mark.parametrize("role", ["administrator", "payroll"])
def test_an_administrator_cannot_set_the_password_of_another_with_a_role(
    client, admin_user, second_admin, payroll, role
):
    target = second_admin if role == "administrator" else payroll
    client.force_login(admin_user)

    page = client.get(password_page(target), follow=True).content.decode()
    posted = set_password(client, target).content.decode()

    assert TAKE_OVER_REFUSED in page and TAKE_OVER_REFUSED in posted
    target.refresh_from_db()
    assert target.check_password("secret-password-1")
    assert not target.check_password("taken-over-9")


def test_an_administrator_may_still_set_a_managers_password(client, admin_user, school_manager):
    client.force_login(admin_user)

    set_password(client, school_manager, "new-manager-pw-4")

    school_manager.refresh_from_db()
    assert school_manager.check_password("new-manager-pw-4")


def test_ones_own_password_is_changed_in_the_form_that_asks_for_the_old_one(client, admin_user):
    client.force_login(admin_user)

    assert client.get(password_page(admin_user))["Location"] == reverse("admin:password_change")
    client.post(
        reverse("admin:password_change"),
        {
            "old_password": "secret-password-1",
            "new_password1": "my-own-new-pw-7",
            "new_password2": "my-own-new-pw-7",
        },
    )

    admin_user.refresh_from_db()
    assert admin_user.check_password("my-own-new-pw-7")


def change_form(user: User, **changes) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2026-11-29",
        "date_joined_1": "10:00:00",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


def test_an_administrator_cannot_change_another_administrators_email(
    client, admin_user, second_admin
):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:portal_user_change", args=[second_admin.pk]),
        change_form(second_admin, email="attacker@evil.example"),
    )

    assert TAKE_OVER_REFUSED in response.content.decode()
    second_admin.refresh_from_db()
    assert second_admin.email == "admin2@example.org"


def test_an_administrator_changes_their_own_email(client, admin_user):
    client.force_login(admin_user)

    client.post(
        reverse("admin:portal_user_change", args=[admin_user.pk]),
        change_form(admin_user, email="ny@kommune.example"),
    )

    admin_user.refresh_from_db()
    assert admin_user.email == "ny@kommune.example"


def test_a_single_sign_on_administrator_cannot_change_a_break_glass_account(client, settings, db):
    settings.SSO_BREAK_GLASS_USERS = ["noedadgang"]
    break_glass = UserFactory(username="noedadgang", is_staff=True, is_superuser=True)
    sso_admin = UserFactory(
        username="sso.admin", sso_subject="abc-123", is_staff=True, is_superuser=True
    )
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "portal.sso.OIDCBackend"]
    client.force_login(sso_admin, backend="portal.sso.OIDCBackend")

    page = client.get(password_page(break_glass), follow=True).content.decode()
    set_password(client, break_glass)
    edit = client.post(
        reverse("admin:portal_user_change", args=[break_glass.pk]),
        change_form(break_glass, email="sso@evil.example", is_active=""),
    )

    assert "Du er logget ind med kommunens login og kan ikke ændre en nødadgang" in page
    assert edit.status_code == 403
    break_glass.refresh_from_db()
    assert break_glass.check_password("secret-password-1") and break_glass.is_active
    assert break_glass.email == "noedadgang@example.org"


# --- Approving a role needs the password again --------------------------------------


def approve(client, grant):
    return client.post(
        reverse("admin:portal_rolegrant_changelist"),
        {"action": "approve", "_selected_action": [grant.pk]},
    )


def test_approving_a_role_needs_the_password_again_after_a_few_minutes(
    client, settings, admin_user, second_admin
):
    settings.REAUTH_MAX_AGE_SECONDS = 300
    clerk = UserFactory(username="ny.loen")
    grant = propose_role(user=clerk, role=RoleGrant.Role.PAYROLL, by=admin_user)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(second_admin)

    with time_machine.travel(start + datetime.timedelta(minutes=6), tick=False):
        asked = approve(client, grant)
        clerk.refresh_from_db()
        assert not clerk.is_payroll
        assert asked["Location"].startswith(reverse("reauthenticate"))
        form = client.get(asked["Location"]).content.decode()
        assert "Bekræft, at det er dig" in form

        wrong = client.post(
            asked["Location"], {"password": "not-it", "next": "/admin/portal/rolegrant/"}
        )
        assert "Adgangskoden er ikke rigtig." in wrong.content.decode()
        right = client.post(
            asked["Location"], {"password": "secret-password-1", "next": "/admin/portal/rolegrant/"}
        )
        assert right["Location"] == "/admin/portal/rolegrant/"

        approve(client, grant)

    clerk.refresh_from_db()
    assert clerk.is_payroll


def test_a_fresh_login_is_enough_to_approve_at_once(client, admin_user, second_admin):
    clerk = UserFactory(username="ny.admin")
    grant = propose_role(user=clerk, role=RoleGrant.Role.ADMINISTRATOR, by=admin_user)
    client.post(reverse("login"), {"username": "admin2", "password": "secret-password-1"})

    approve(client, grant)

    clerk.refresh_from_db()
    assert clerk.is_superuser


def test_the_approving_administrator_is_told_the_role_now_counts(client, admin_user, second_admin):
    clerk = UserFactory(username="ny.loen", first_name="Lise", last_name="Lønning")
    grant = propose_role(user=clerk, role=RoleGrant.Role.PAYROLL, by=admin_user)
    client.post(reverse("login"), {"username": "admin2", "password": "secret-password-1"})

    page = client.post(
        reverse("admin:portal_rolegrant_changelist"),
        {"action": "approve", "_selected_action": [grant.pk]},
        follow=True,
    ).content.decode()

    assert "Godkendt: Lise Lønning har nu rollen løn." in page


def test_the_password_given_again_counts_towards_the_lockout(client, settings, second_admin):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(second_admin)
    page = reverse("reauthenticate")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(page, {"password": "guess"})

    assert client.post(page, {"password": "secret-password-1"}).status_code == 429
    assert (
        Client()
        .post(reverse("login"), {"username": "admin2", "password": "secret-password-1"})
        .status_code
        == 429
    )

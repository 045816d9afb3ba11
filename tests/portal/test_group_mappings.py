"""A group mapping to the payroll or administrator role takes two administrators; a
unit membership mapping takes effect at once."""

import datetime
from email.header import decode_header, make_header
from email.utils import getaddresses

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from orders.models import Notification
from orders.notifications import send_pending_notifications
from portal.models import GroupMapping, Membership, RoleGrant
from portal.roles import (
    RoleGrantError,
    decide_role,
    delete_group_mapping,
    save_group_mapping,
)
from portal.sso import sync_access_from_groups

from ..factories import UserFactory


@pytest.fixture
def admins(db):
    return [UserFactory(username=f"admin{i}", is_staff=True, is_superuser=True) for i in (1, 2, 3)]


def propose(admin, group_id="g-payroll", grants=GroupMapping.Grants.PAYROLL):
    mapping = GroupMapping(group_id=group_id, grants=grants, label="Løn")
    grant = save_group_mapping(mapping=mapping, by=admin)
    return mapping, grant


def test_a_role_mapping_counts_at_login_only_after_another_administrator_approves(admins):
    first, second, _third = admins
    clerk = UserFactory(username="clerk")
    mapping, grant = propose(first)

    sync_access_from_groups(user=clerk, groups=["g-payroll"])
    assert not clerk.is_payroll
    with pytest.raises(RoleGrantError):
        decide_role(grant_id=grant.pk, by=first, approve=True)

    decide_role(grant_id=grant.pk, by=second, approve=True)
    sync_access_from_groups(user=clerk, groups=["g-payroll"])

    clerk.refresh_from_db()
    mapping.refresh_from_db()
    assert clerk.is_payroll and mapping.approved


def test_an_administrator_mapping_rejected_gives_nothing(admins):
    first, second, _third = admins
    user = UserFactory(username="someone")
    _mapping, grant = propose(first, "g-admins", GroupMapping.Grants.ADMINISTRATOR)

    decide_role(grant_id=grant.pk, by=second, approve=False)
    sync_access_from_groups(user=user, groups=["g-admins"])

    assert not user.is_superuser and not user.is_staff


def test_changing_the_group_of_an_approved_mapping_needs_approval_again(admins):
    first, second, third = admins
    mapping, grant = propose(first)
    decide_role(grant_id=grant.pk, by=second, approve=True)

    mapping.group_id = "g-everyone"
    again = save_group_mapping(mapping=mapping, by=second, changed={"group_id"})

    mapping.refresh_from_db()
    assert not mapping.approved and again.proposed_by == second
    clerk = UserFactory(username="clerk")
    sync_access_from_groups(user=clerk, groups=["g-everyone"])
    assert not clerk.is_payroll
    with pytest.raises(RoleGrantError):
        decide_role(grant_id=again.pk, by=second, approve=True)
    decide_role(grant_id=again.pk, by=third, approve=True)
    sync_access_from_groups(user=clerk, groups=["g-everyone"])
    assert clerk.is_payroll


def test_a_change_while_proposed_replaces_the_proposal_so_the_changer_cannot_approve_it(
    admins,
):
    first, second, _third = admins
    mapping, grant = propose(first)

    mapping.grants = GroupMapping.Grants.ADMINISTRATOR
    newer = save_group_mapping(mapping=mapping, by=second, changed={"grants"})

    grant.refresh_from_db()
    assert grant.state == RoleGrant.State.SUPERSEDED
    with pytest.raises(RoleGrantError):
        decide_role(grant_id=grant.pk, by=second, approve=True)
    with pytest.raises(RoleGrantError):
        decide_role(grant_id=newer.pk, by=second, approve=True)
    decide_role(grant_id=newer.pk, by=first, approve=True)
    mapping.refresh_from_db()
    assert mapping.approved and mapping.grants == GroupMapping.Grants.ADMINISTRATOR


def test_a_new_description_keeps_the_approval(admins):
    first, second, _third = admins
    mapping, grant = propose(first)
    decide_role(grant_id=grant.pk, by=second, approve=True)

    mapping.label = "Løn og Personale"
    assert save_group_mapping(mapping=mapping, by=first, changed={"label"}) is None

    mapping.refresh_from_db()
    assert mapping.approved


def test_a_deleted_mapping_takes_its_proposal_with_it(admins):
    first, second, _third = admins
    mapping, grant = propose(first)

    delete_group_mapping(mapping=mapping)

    grant.refresh_from_db()
    assert grant.state == RoleGrant.State.SUPERSEDED and grant.target == "Løn (g-payroll)"
    with pytest.raises(RoleGrantError):
        decide_role(grant_id=grant.pk, by=second, approve=True)


def test_a_unit_membership_mapping_takes_effect_at_once(admins, school):
    mapping = GroupMapping(
        group_id="g-school", unit=school, membership_role=Membership.Role.MANAGER
    )
    assert save_group_mapping(mapping=mapping, by=admins[0]) is None
    manager = UserFactory(username="manager")

    sync_access_from_groups(user=manager, groups=["g-school"])

    assert manager.memberships.get().unit == school
    assert not RoleGrant.objects.exists()


def test_the_proposal_and_the_approval_are_mailed_to_administrators_and_payroll(
    admins, payroll, mailoutbox, django_capture_on_commit_callbacks, tasks_in_process
):
    first, second, _third = admins
    with django_capture_on_commit_callbacks(execute=True):
        _mapping, grant = propose(first)
    with django_capture_on_commit_callbacks(execute=True):
        decide_role(grant_id=grant.pk, by=second, approve=True)

    proposed, approved = mailoutbox
    for person in (*admins, payroll):
        assert person.email in proposed.to and person.email in approved.to
    assert "g-payroll" in proposed.subject and "g-payroll" in approved.body


def test_a_role_email_waits_in_the_outbox_while_the_mail_server_is_down(
    admins, settings, smtp_server, django_capture_on_commit_callbacks, tasks_in_process
):
    port, settings.EMAIL_PORT = settings.EMAIL_PORT, 1  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        propose(admins[0])

    email = Notification.objects.get(template="role_proposed")
    assert email.state == Notification.State.FAILED and email.last_error
    assert smtp_server.messages == []

    settings.EMAIL_PORT = port
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=9)):
        assert send_pending_notifications() == 1
    email.refresh_from_db()
    assert email.state == Notification.State.SENT
    (message,) = smtp_server.messages
    assert "g-payroll" in str(make_header(decode_header(message["Subject"])))
    assert {address for _name, address in getaddresses([message["To"]])} == {
        admin.email for admin in admins
    }


def test_the_admin_shows_a_role_mapping_as_not_in_effect_until_approved(client, admins):
    client.force_login(admins[0])

    response = client.post(
        reverse("admin:portal_groupmapping_add"),
        {"group_id": "g-admins", "grants": "administrator", "label": ""},
        follow=True,
    )

    page = response.content.decode()
    grant = RoleGrant.objects.get()
    assert grant.group_mapping.group_id == "g-admins" and grant.user is None
    warning = gettext(
        "The mapping gives the role “%(role)s”: it has no effect at login until "
        "another administrator approves it under Role grants."
    ) % {"role": grant.get_role_display()}
    assert escape(warning) in page
    assert escape(gettext("No: awaits approval by another administrator under Role grants")) in page
    listing = client.get(reverse("admin:portal_rolegrant_changelist")).content.decode()
    assert escape(gettext("members of the group %(group)s") % {"group": "g-admins"}) in listing


def test_a_group_maps_to_the_same_role_only_once_on_every_database(admins):
    from django.db import IntegrityError, transaction

    GroupMapping.objects.create(group_id="g-payroll", grants=GroupMapping.Grants.PAYROLL)
    with (
        pytest.raises(IntegrityError, match="groupmapping_unique_role|UNIQUE constraint failed"),
        transaction.atomic(),
    ):
        GroupMapping.objects.create(group_id="g-payroll", grants=GroupMapping.Grants.PAYROLL)

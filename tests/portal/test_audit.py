"""Every administrative change is on record; roles need two administrators."""

import csv
import io

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from orders.models import Order, OrderLine, Person
from portal.models import GroupMapping, Membership, RoleGrant, Unit, User
from portal.roles import RoleGrantError, decide_role, propose_role
from robot.models import Assessment, Document, RuleSet
from robot.rules import copy_ruleset

from ..factories import UserFactory, make_cpr, order_for


def entries_for(model):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model))


@pytest.fixture
def second_admin(db):
    return UserFactory(username="admin2", is_staff=True, is_superuser=True)


def test_a_unit_renamed_in_the_admin_is_recorded_with_who_and_before_after(
    client, admin_user, school
):
    client.force_login(admin_user)

    client.post(
        reverse("admin:portal_unit_change", args=[school.pk]),
        {
            "name": "Nordskolen Afd. Syd",
            "area": school.area_id,
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    entry = entries_for(Unit).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == admin_user
    assert entry.changes_dict["name"] == ["Nordskolen", "Nordskolen Afd. Syd"]


def test_activating_rules_records_who_did_it(client, admin_user):
    active = RuleSet.objects.get(is_active=True)
    draft = copy_ruleset(active, note="Ny sætning")
    client.force_login(admin_user)

    client.post(
        reverse("admin:robot_ruleset_changelist"),
        {"action": "activate", "_selected_action": [draft.pk], "post": "yes"},
    )

    draft.refresh_from_db()
    assert draft.is_active and draft.activated_by == admin_user
    activation = (
        entries_for(RuleSet).filter(object_pk=str(draft.pk), action=LogEntry.Action.UPDATE).get()
    )
    assert activation.actor == admin_user
    assert activation.changes_dict["is_active"] == ["False", "True"]


def test_role_and_membership_changes_are_recorded_but_not_passwords(school, admin_user):
    user = UserFactory(username="mads")
    user.is_active = False
    user.set_password("new-password-2")
    user.save()
    Membership.objects.create(user=user, unit=school)
    GroupMapping.objects.create(group_id="g-1", unit=school, membership_role="manager")

    change = entries_for(User).filter(object_pk=str(user.pk), action=LogEntry.Action.UPDATE).get()
    assert set(change.changes_dict) == {"is_active"}
    assert entries_for(Membership).filter(action=LogEntry.Action.CREATE).exists()
    assert entries_for(GroupMapping).filter(action=LogEntry.Action.CREATE).exists()


def test_orders_people_and_certificates_are_never_in_the_audit_log(school, teacher, school_manager):
    cpr = make_cpr()
    order_for(unit=school, profile=teacher, by=school_manager, cpr=cpr)

    for model in (Order, OrderLine, Person, Document, Assessment):
        assert not auditlog.contains(model)
    assert not LogEntry.objects.filter(changes_text__contains=cpr[:6]).exists()
    assert all(cpr[:6] not in str(e.changes) for e in LogEntry.objects.all())


def test_the_audit_log_is_filterable_exportable_and_cannot_be_edited(client, admin_user, school):
    school.name = "Sydskolen"
    school.save()
    client.force_login(admin_user)
    changelist = reverse("admin:auditlog_logentry_changelist")

    assert client.get(changelist, {"action__exact": "1"}).status_code == 200
    response = client.post(
        changelist,
        {
            "action": "export_csv",
            "_selected_action": list(LogEntry.objects.values_list("pk", flat=True)),
        },
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["timestamp", "actor", "action"]
    assert any(row[3] == "portal.unit" and "Sydskolen" in row[6] for row in rows[1:])
    entry = LogEntry.objects.first()
    assert (
        client.post(
            reverse("admin:auditlog_logentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_granting_payroll_takes_a_second_administrator_and_everyone_is_told(
    admin_user,
    second_admin,
    payroll,
    mailoutbox,
    django_capture_on_commit_callbacks,
    tasks_in_process,
):
    clerk = UserFactory(username="ny.loen")

    with django_capture_on_commit_callbacks(execute=True):
        grant = propose_role(user=clerk, role=RoleGrant.Role.PAYROLL, by=admin_user)
    clerk.refresh_from_db()
    assert not clerk.is_payroll

    with django_capture_on_commit_callbacks(execute=True):
        decide_role(grant_id=grant.pk, by=second_admin, approve=True)

    clerk.refresh_from_db()
    assert clerk.is_payroll
    assert len(mailoutbox) == 2
    proposed, approved = mailoutbox
    for person in (admin_user, second_admin, payroll):
        assert person.email in proposed.to and person.email in approved.to
    assert "ny.loen" in proposed.subject or str(clerk) in proposed.subject
    assert "admin2" in approved.body or str(second_admin) in approved.body
    grant.refresh_from_db()
    assert (grant.proposed_by, grant.decided_by) == (admin_user, second_admin)


def test_nobody_approves_their_own_proposal(admin_user):
    clerk = UserFactory(username="ny.admin")
    grant = propose_role(user=clerk, role=RoleGrant.Role.ADMINISTRATOR, by=admin_user)

    with pytest.raises(RoleGrantError):
        decide_role(grant_id=grant.pk, by=admin_user, approve=True)

    clerk.refresh_from_db()
    assert not clerk.is_superuser


def test_only_administrators_propose_or_approve(admin_user, payroll):
    clerk = UserFactory(username="x")
    with pytest.raises(RoleGrantError):
        propose_role(user=clerk, role=RoleGrant.Role.PAYROLL, by=payroll)
    grant = propose_role(user=clerk, role=RoleGrant.Role.PAYROLL, by=admin_user)
    with pytest.raises(RoleGrantError):
        decide_role(grant_id=grant.pk, by=payroll, approve=True)


def test_the_user_form_in_the_admin_cannot_grant_roles_directly(client, admin_user):
    clerk = UserFactory(username="direkte")
    client.force_login(admin_user)
    url = reverse("admin:portal_user_change", args=[clerk.pk])

    client.post(
        url,
        {
            "username": "direkte",
            "is_active": "on",
            "is_payroll": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-11-29",
            "date_joined_1": "10:00:00",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )

    clerk.refresh_from_db()
    assert not (clerk.is_payroll or clerk.is_staff or clerk.is_superuser)


def test_proposing_and_approving_through_the_admin(client, admin_user, second_admin):
    clerk = UserFactory(username="via.admin")
    client.force_login(admin_user)
    client.post(
        reverse("admin:portal_user_changelist"),
        {"action": "propose_payroll", "_selected_action": [clerk.pk]},
    )
    grant = RoleGrant.objects.get(user=clerk)

    client.post(
        reverse("admin:portal_rolegrant_changelist"),
        {"action": "approve", "_selected_action": [grant.pk]},
    )
    clerk.refresh_from_db()
    assert not clerk.is_payroll  # own proposal

    client.force_login(second_admin)
    client.post(
        reverse("admin:portal_rolegrant_changelist"),
        {"action": "approve", "_selected_action": [grant.pk]},
    )
    clerk.refresh_from_db()
    assert clerk.is_payroll


@pytest.fixture
def entries_with_missing_values(school):
    """Entries as an organisation import wrote them: None (JSON null) where a value was
    not there, on either side, and a field with no "after" at all."""
    unit_type = ContentType.objects.get_for_model(Unit)
    changes = [
        {"name": [None, "Nordskolen"], "closed_at": [None, "2026-11-30 09:15:00+00:00"]},
        {"area": [None, str(school.area_id)], "is_active": [None, "True"]},
        {"external_id": ["HR-17", None], "parent": [None]},
        {"name": None},
    ]
    return [
        LogEntry.objects.create(
            content_type=unit_type,
            object_pk=str(school.pk),
            object_id=school.pk,
            object_repr=school.name,
            action=LogEntry.Action.UPDATE,
            changes=change,
        )
        for change in changes
    ]


def test_the_audit_log_shows_entries_with_missing_values(
    client, admin_user, entries_with_missing_values
):
    client.force_login(admin_user)

    listing = client.get(reverse("admin:auditlog_logentry_changelist"))
    details = [
        client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk]))
        for entry in entries_with_missing_values
    ]

    assert listing.status_code == 200
    assert listing.content.decode().count("Nordskolen") >= len(entries_with_missing_values)
    assert [page.status_code for page in details] == [200] * 4
    first, second, third, _fourth = (page.content.decode() for page in details)
    assert "<td>–</td><td>Nordskolen</td>" in first
    assert "<td>–</td><td>30. november 2026 10:15</td>" in first  # Danish time
    assert "<td>–</td><td>Børn og Unge</td>" in second  # the area by its name
    assert "<td>HR-17</td><td>–</td>" in third


def test_the_audit_log_export_writes_missing_values_as_a_dash(
    client, admin_user, entries_with_missing_values
):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:auditlog_logentry_changelist"),
        {
            "action": "export_csv",
            "_selected_action": [entry.pk for entry in entries_with_missing_values],
        },
    )

    assert response.status_code == 200
    changes = [row[6] for row in csv.reader(io.StringIO(response.content.decode()))][1:]
    assert len(changes) == 4
    assert "– → Nordskolen" in changes[0]
    assert "– → Børn og Unge" in changes[1]
    assert "HR-17 → –" in changes[2]
    assert "None" not in "".join(changes)

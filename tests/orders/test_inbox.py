"""The "Beskeder" page: the e-mails the portal sent the user, newest first, with a link to
what each one is about, and nobody else's."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import AccessLog, Notification

from ..factories import UserFactory, hire_awaiting_order, make_cpr, order_for

INBOX = "/beskeder/"


def email(*, to, subject, order=None, body="", minutes_ago=0, state=Notification.State.SENT):
    return Notification.objects.create(
        template="decision",
        key=f"test:{Notification.objects.count()}",
        to=to,
        subject=subject,
        body=body,
        order=order,
        state=state,
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def order(school, teacher, school_manager):
    return order_for(
        unit=school, profile=teacher, by=school_manager, name="Sofie Holm", cpr=make_cpr("120388")
    )


def test_the_page_lists_the_users_emails_newest_first_with_a_link_to_the_order(
    client, school_manager, care_manager, order
):
    email(
        to=school_manager.email,
        subject="Ældre besked",
        order=order,
        body="Lønkontoret har truffet en afgørelse om Sofie Holm.",
        minutes_ago=60,
    )
    email(to=f"chef@example.org, {school_manager.email}", subject="Nyeste besked", order=order)
    email(to=care_manager.email, subject="Til plejelederen", body="Kun til plejecentret.")
    client.force_login(school_manager)

    response = client.get(INBOX)

    page = response.content.decode()
    assert page.index("Nyeste besked") < page.index("Ældre besked")
    assert "Lønkontoret har truffet en afgørelse om Sofie Holm." in page
    detail = reverse("orders:detail", kwargs={"public_id": order.public_id})
    assert f'href="{detail}"' in page
    assert "Til plejelederen" not in page and "Kun til plejecentret" not in page


def test_other_peoples_emails_are_not_shown_even_with_a_similar_address(
    client, school_manager, order
):
    email(to=f"x{school_manager.email}", subject="Til en anden")
    email(to=f"{school_manager.email}.evil.example", subject="Heller ikke")
    email(to="loen@example.org", subject="Til lønkontoret")
    client.force_login(school_manager)

    page = client.get(reverse("inbox")).content.decode()

    assert "Til en anden" not in page
    assert "Heller ikke" not in page
    assert "Til lønkontoret" not in page
    assert "Portalen har ikke sendt dig nogen e-mails endnu." in page


def test_payroll_also_sees_the_shared_mailbox(client, payroll, settings):
    settings.PAYROLL_EMAIL = "loenkontoret@example.org"
    email(
        to="loenkontoret@example.org",
        subject="Attest til vurdering",
        body="Åbn dokumentet: http://127.0.0.1:8000/modtagelse/dokument/7/\n",
    )
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000"
    client.force_login(payroll)

    page = client.get(reverse("inbox")).content.decode()

    assert "Attest til vurdering" in page
    assert 'href="/modtagelse/dokument/7/"' in page


def test_an_email_about_an_order_of_another_unit_shows_only_its_kind_and_date(
    client, school_manager, order, care_manager
):
    # A manager who changed units keeps their old e-mails, but not the access.
    email(
        to=care_manager.email,
        subject="Afgørelse om Sofie Holm",
        order=order,
        body="Afgørelse: må ikke ansættes.",
    )
    client.force_login(care_manager)

    page = client.get(reverse("inbox")).content.decode()

    assert "Lønkontorets afgørelse" in page  # the kind of e-mail
    assert "Sofie Holm" not in page
    assert "må ikke ansættes" not in page
    assert reverse("orders:detail", kwargs={"public_id": order.public_id}) not in page
    assert not AccessLog.objects.filter(user=care_manager, order=order).exists()


def test_a_reminder_about_a_new_hire_is_shown_only_while_the_manager_has_the_unit(
    client, school, teacher, school_manager
):
    from orders.hires import send_hire_reminders
    from portal.models import Membership

    hire_awaiting_order(
        unit=school,
        profile=teacher,
        name="Karla Krog",
        start_date=timezone.localdate() + datetime.timedelta(days=5),
    )
    assert send_hire_reminders(now=timezone.now()) == 1
    client.force_login(school_manager)

    assert "Karla Krog" in client.get(reverse("inbox")).content.decode()

    # The manager moves to another unit: the reminder stays, the hire's name does not.
    Membership.objects.filter(user=school_manager, unit=school).delete()
    page = client.get(reverse("inbox")).content.decode()
    assert "Påmindelse: nyansat uden bestilling" in page
    assert "Karla Krog" not in page


def test_an_anonymised_email_shows_its_kind(client, school_manager, order):
    email(to=school_manager.email, subject="", order=order, body="")
    client.force_login(school_manager)

    page = client.get(reverse("inbox")).content.decode()

    assert "Lønkontorets afgørelse" in page
    assert "<summary></summary>" not in page


def test_waiting_and_failed_emails_say_so(client, school_manager):
    email(to=school_manager.email, subject="Ikke sendt endnu", state=Notification.State.FAILED)
    client.force_login(school_manager)

    page = client.get(reverse("inbox")).content.decode()

    assert "Fejlet" in page


def test_the_list_is_paginated_with_a_fixed_number_of_queries(
    client, school_manager, order, django_assert_max_num_queries
):
    for number in range(30):
        email(
            to=school_manager.email, subject=f"Besked {number:02d}", order=order, minutes_ago=number
        )
    client.force_login(school_manager)

    # The shared paginator reads the page's ids first, then those rows: one query more.
    with django_assert_max_num_queries(13):
        first = client.get(reverse("inbox")).content.decode()
    second = client.get(reverse("inbox") + "?page=2").content.decode()

    assert "Besked 00" in first and "Besked 24" in first and "Besked 25" not in first
    assert "Besked 25" in second and "Besked 29" in second
    assert "Side 1 af 2" in first


def test_seeing_the_messages_is_logged_per_order(client, school_manager, order):
    email(to=school_manager.email, subject="Besked", order=order)
    client.force_login(school_manager)

    client.get(reverse("inbox"))

    assert AccessLog.objects.filter(
        user=school_manager, order=order, action=AccessLog.Action.LIST_MESSAGES
    ).exists()


def test_a_user_without_an_address_is_told_why_the_page_is_empty(client, db):
    user = UserFactory(username="uden.adresse", email="")
    email(to="", subject="Til ingen")
    client.force_login(user)

    page = client.get(reverse("inbox")).content.decode()

    assert "Til ingen" not in page
    assert "ingen e-mailadresse" in page


def test_role_emails_are_shown_to_their_recipients(client, db, django_capture_on_commit_callbacks):
    from portal.roles import decide_role, propose_role

    first = UserFactory(username="admin1", is_staff=True, is_superuser=True)
    second = UserFactory(username="admin2", is_staff=True, is_superuser=True)
    clerk = UserFactory(username="ny.loen")
    colleague = UserFactory(username="loen.kollega", is_payroll=True)
    bystander = UserFactory(username="leder.uden.rolle")
    with django_capture_on_commit_callbacks(execute=True):
        grant = propose_role(user=clerk, role="payroll", by=first)
        decide_role(grant_id=grant.pk, by=second, approve=True)

    client.force_login(second)
    page = client.get(reverse("inbox")).content.decode()
    assert "Rolle foreslået" in page and "Rolle tildelt" in page
    assert 'href="/admin/portal/rolegrant/"' in page

    # Payroll is told too, without a link into an administration they cannot open.
    client.force_login(colleague)
    page = client.get(reverse("inbox")).content.decode()
    assert "Rolle foreslået" in page and "Rolle tildelt" in page
    assert 'href="/admin/' not in page
    client.force_login(clerk)
    assert "Rolle tildelt" in client.get(reverse("inbox")).content.decode()

    client.force_login(bystander)
    assert "Rolle" not in client.get(reverse("inbox")).content.decode()

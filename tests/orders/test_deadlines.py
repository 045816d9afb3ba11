import datetime
import re
from email.header import decode_header, make_header

import pytest
import time_machine
from django.utils import timezone

from orders import batching, deadlines
from orders.models import Notification, OrderEvent, OrderLine
from orders.notifications import send_pending_notifications
from orders.services import reorder_line

from ..factories import UserFactory, order_for

T0 = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 0))


def at(days: float):
    return time_machine.travel(T0 + datetime.timedelta(days=days), tick=False)


@pytest.fixture
def ordered(school, teacher, school_manager, payroll):
    """A teacher's two certificates, ordered at the police at T0, starting in 60 days."""
    with at(0):
        order = order_for(
            unit=school,
            profile=teacher,
            by=school_manager,
            cpr="1203961234",
            name="Sofie Holm",
            start_date=T0.date() + datetime.timedelta(days=60),
        )
        for batch in batching.prepare_batches(by=payroll):
            batching.mark_batch_ordered(batch=batch, by=payroll)
    school_manager.email = "leder@nordskolen.example"
    school_manager.save()
    return order


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def run_schedule(days: float):
    with at(days):
        report = deadlines.process_deadlines()
        send_pending_notifications()
    return report


def test_the_manager_is_reminded_on_day_7_and_day_12(ordered, smtp_server):
    assert run_schedule(6.9).reminders == 0
    assert run_schedule(7).reminders == 2  # one per certificate
    assert run_schedule(8).reminders == 0  # hourly runs send nothing twice
    assert run_schedule(12.1).reminders == 2
    assert run_schedule(13).reminders == 0

    assert len(smtp_server.messages) == 4
    message = smtp_server.messages[0]
    assert message["To"] == "leder@nordskolen.example"
    assert subject(message) == "Påmindelse: Sofie Holm skal give samtykke i Digital Post"
    body = message.get_payload(decode=True).decode()
    assert f"/bestillinger/{ordered.public_id}/" in body
    assert OrderEvent.objects.filter(order=ordered, action="reminded").count() == 4


def test_after_a_pause_only_the_latest_reminder_goes_out(ordered, smtp_server):
    assert run_schedule(13).reminders == 2
    assert {n.key.split(":")[-1] for n in Notification.objects.all()} == {"12"}


def test_no_email_contains_a_cpr_number(ordered, smtp_server, payroll):
    payroll.email = "loen@kommune.example"
    payroll.save()
    for day in (7, 12, 19, 56):
        run_schedule(day)
    assert len(smtp_server.messages) >= 6
    for message in smtp_server.messages:
        text = subject(message) + message.get_payload(decode=True).decode()
        assert not re.search(r"(?<!\d)\d{6}[- ]?\d{4}(?!\d)", text), text


def test_an_unanswered_line_expires_after_19_days_and_both_sides_are_told(
    ordered, smtp_server, payroll
):
    payroll.email = "loen@kommune.example"
    payroll.save()
    assert run_schedule(18.9).expired == 0
    assert run_schedule(19).expired == 2

    assert set(ordered.lines.values_list("status", flat=True)) == {"expired"}
    sent = Notification.objects.filter(state="sent")
    assert (
        sorted(sent.filter(template="line_expired").values_list("to", flat=True))
        == ["leder@nordskolen.example"] * 2
    )
    assert (
        sorted(sent.filter(template="line_expired_payroll").values_list("to", flat=True))
        == ["loen@kommune.example"] * 2
    )
    assert OrderEvent.objects.filter(order=ordered, action="expired", actor=None).count() == 2
    assert run_schedule(20).expired == 0


def test_an_expired_line_is_ordered_again_with_one_click(ordered, school_manager, smtp_server):
    run_schedule(19)
    expired = ordered.lines.get(kind__code="child")

    new_line = reorder_line(line=expired, by=school_manager)

    assert new_line.status == "new" and new_line.replaces == expired
    assert new_line.legal_basis == expired.legal_basis
    assert not OrderLine.objects.get(pk=expired.pk).can_be_reordered


def test_paper_consent_lines_get_no_digital_post_reminders(ordered, smtp_server):
    type(ordered).objects.filter(pk=ordered.pk).update(digital_post_exempt=True)
    assert run_schedule(7).reminders == 0


def test_a_start_date_close_without_certificate_warns_the_manager_once(
    school, teacher, school_manager, smtp_server
):
    school_manager.email = "leder@nordskolen.example"
    school_manager.save()
    with at(0):
        order = order_for(
            unit=school,
            profile=teacher,
            by=school_manager,
            name="Ida Lund",
            start_date=T0.date() + datetime.timedelta(days=10),
        )
    assert run_schedule(4).start_soon == 0
    assert run_schedule(5).start_soon == 1
    assert run_schedule(6).start_soon == 0

    assert [m["To"] for m in smtp_server.messages] == ["leder@nordskolen.example"]
    body = smtp_server.messages[0].get_payload(decode=True).decode()
    assert "Børneattest" in body and "Offentlig straffeattest" in body
    assert OrderEvent.objects.filter(order=order, action="start_soon").count() == 2


def test_a_refused_recipient_leaves_the_email_failed_and_it_is_retried(ordered, smtp_server):
    smtp_server.refused.add("leder@nordskolen.example")
    run_schedule(7)
    failed = Notification.objects.filter(state="failed")
    assert failed.count() == 2
    assert "550" in failed.first().last_error or "Mailbox" in failed.first().last_error

    smtp_server.refused.clear()
    with at(7.1):
        assert send_pending_notifications() == 2
    assert Notification.objects.filter(state="sent").count() == 2
    assert len(smtp_server.messages) == 2


def test_an_unreachable_mail_server_loses_nothing(ordered, settings, smtp_server):
    port, settings.EMAIL_PORT = settings.EMAIL_PORT, 1  # nothing listens there
    run_schedule(7)
    assert Notification.objects.filter(state="failed").count() == 2
    settings.EMAIL_PORT = port
    with at(7.1):
        send_pending_notifications()
    assert len(smtp_server.messages) == 2


def test_the_manager_who_left_is_replaced_by_the_units_managers(ordered, school, smtp_server):
    from portal.models import Membership

    ordered.created_by.is_active = False
    ordered.created_by.save()
    successor = UserFactory(username="ny.leder", email="ny.leder@nordskolen.example")
    Membership.objects.create(user=successor, unit=school, role="manager")
    run_schedule(7)
    assert {m["To"] for m in smtp_server.messages} == {"ny.leder@nordskolen.example"}


def test_names_with_special_characters_are_not_escaped_in_subjects(
    school, teacher, school_manager, smtp_server
):
    school_manager.email = "leder@nordskolen.example"
    school_manager.save()
    with at(0):
        order_for(
            unit=school,
            profile=teacher,
            by=school_manager,
            name="Sofie O'Brien & Co",
            start_date=T0.date() + datetime.timedelta(days=3),
        )
    run_schedule(0)
    assert subject(smtp_server.messages[0]).startswith("Sofie O'Brien & Co")


def test_failed_emails_back_off_and_survive_a_long_outage(ordered, settings, smtp_server):
    port, settings.EMAIL_PORT = settings.EMAIL_PORT, 1
    for hour in range(0, 12):
        run_schedule(7 + hour / 24)
    failed = Notification.objects.filter(state="failed")
    assert failed.count() == 2 and all(n.attempts < 8 for n in failed)
    settings.EMAIL_PORT = port
    run_schedule(8)
    assert Notification.objects.filter(state="sent").count() == 2


def test_an_expired_certificate_still_counts_as_missing_before_the_start(ordered, smtp_server):
    type(ordered).objects.filter(pk=ordered.pk).update(
        start_date=T0.date() + datetime.timedelta(days=22)
    )
    report = run_schedule(19)
    assert (report.expired, report.start_soon) == (2, 1)  # expired lines are still missing


def test_a_hire_who_started_long_ago_is_not_warned_about_again(ordered, smtp_server):
    # The lines expired unanswered and nobody ordered again; the hire started years ago.
    # That is payroll's compliance list, not a "starts soon" e-mail at every run.
    run_schedule(19)
    type(ordered).objects.filter(pk=ordered.pk).update(
        start_date=T0.date() - datetime.timedelta(days=400)
    )
    assert run_schedule(20).start_soon == 0
    assert not OrderEvent.objects.filter(order=ordered, action="start_soon").exists()

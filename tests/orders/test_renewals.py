"""Renewed checks: off by default; when a position requires one every N years, staff
whose certificate was cleared longer ago prompt their managers again, and payroll sees
what is overdue."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import hires
from orders.deadlines import process_deadlines
from orders.models import Hire, OrderLine

from ..factories import make_cpr, order_for


@pytest.fixture
def staff(school, teacher, school_manager):
    """A teacher hired three years ago whose certificates were cleared then."""
    cpr = make_cpr()
    order = order_for(unit=school, profile=teacher, by=school_manager, cpr=cpr)
    cleared_at = timezone.now() - datetime.timedelta(days=3 * 365 + 2)
    order.lines.update(status=OrderLine.Status.CLEARED, status_changed_at=cleared_at)
    return Hire.objects.create(
        source_key="emp:R1",
        person=order.person,
        full_name="Rasmus Ravn",
        unit=school,
        start_date=(cleared_at + datetime.timedelta(days=10)).date(),
        job_code="1234",
        profile=teacher,
        status=Hire.Status.ORDERED,
        order=order,
    )


def test_no_renewal_unless_the_position_asks_for_it(staff):
    assert process_deadlines().renewals == 0
    staff.refresh_from_db()
    assert staff.status == Hire.Status.ORDERED


def test_renewal_prompts_the_manager_and_shows_payroll_what_is_overdue(
    client, staff, teacher, school_manager, payroll
):
    teacher.renewal_years = 3
    teacher.save()

    assert process_deadlines().renewals == 1
    assert process_deadlines().renewals == 0  # once

    staff.refresh_from_db()
    assert staff.status == Hire.Status.AWAITING_ORDER and staff.renewal_due_since
    client.force_login(school_manager)
    assert "Rasmus Ravn" in client.get(reverse("orders:list")).content.decode()
    client.force_login(payroll)
    assert "Rasmus Ravn" in client.get(reverse("payroll:hire_compliance")).content.decode()


def test_renewal_ordered_from_the_prompt_clears_it(client, staff, teacher, school_manager):
    teacher.renewal_years = 3
    teacher.save()
    process_deadlines()
    client.force_login(school_manager)
    url = reverse("orders:hire_order", kwargs={"public_id": staff.public_id})
    form = client.get(url).context["form"]
    client.post(
        url,
        {
            "submission_token": form.initial["submission_token"],
            "full_name": "Rasmus Ravn",
            "start_date": staff.start_date.isoformat(),
            "profile": teacher.pk,
        },
    )
    staff.refresh_from_db()
    assert staff.status == Hire.Status.ORDERED and staff.renewal_due_since is None
    assert list(hires.renewals_overdue()) == []


def test_a_recent_certificate_is_not_due(staff, teacher):
    teacher.renewal_years = 5
    teacher.save()
    assert process_deadlines().renewals == 0

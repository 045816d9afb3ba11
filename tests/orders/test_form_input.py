"""What the order form accepts as the new hire's name and start date.

The name is pasted by payroll into politi.dk and exported to CSV, so characters that
change how it reads, or make a spreadsheet run it, are refused at the door.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from orders.batching import police_paste_text
from orders.forms import OrderForm
from orders.models import Order

from .test_views import danish, order_data

CREATE = reverse("orders:create")
COPENHAGEN = zoneinfo.ZoneInfo("Europe/Copenhagen")

INVISIBLE = (
    "The name contains invisible or control characters. Type the name again instead of pasting it."
)
FORMULA = "The name cannot start with =, +, - or @."
TOO_FAR = "The start date is more than a year ahead. Check the date."
PAST = "The start date cannot be in the past."

BIDI_AND_ZERO_WIDTH = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",  # embeddings and overrides
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",  # isolates
    "\u200e",
    "\u200f",
    "\u061c",  # marks
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",  # zero width, byte order mark
]
OTHER_CONTROL_OR_FORMAT = [
    "\x07",
    "\x1b",
    "\x7f",
    "\x9b",  # Cc: bell, escape, delete, CSI (Django refuses NUL)
    "\u00ad",
    "\u2061",
    "\U000e0041",  # Cf: soft hyphen, function application, tag
]


def form_for(user, data) -> OrderForm:
    form = OrderForm(data, user=user)
    form.is_valid()
    return form


def at_copenhagen(*args):
    return time_machine.travel(datetime.datetime(*args, tzinfo=COPENHAGEN), tick=False)


# The name, through the form


@pytest.mark.parametrize(
    "char", BIDI_AND_ZERO_WIDTH + OTHER_CONTROL_OR_FORMAT, ids=lambda c: f"U+{ord(c):04X}"
)
def test_the_form_refuses_a_name_with_an_invisible_or_control_character(
    school, school_manager, teacher, char
):
    form = form_for(school_manager, order_data(school, teacher, full_name=f"Sofie{char} Hansen"))
    assert form.has_error("full_name", code="invisible_characters")


def test_the_form_refuses_a_right_to_left_override_hiding_a_different_name(
    school, school_manager, teacher
):
    # Shows as "Sofie Hansen" in a browser, but is stored and pasted as something else.
    form = form_for(
        school_manager, order_data(school, teacher, full_name="Sofie \u202enesnaH\u202c")
    )
    assert form.has_error("full_name", code="invisible_characters")


def test_the_form_refuses_a_name_that_is_only_a_zero_width_space(school, school_manager, teacher):
    form = form_for(school_manager, order_data(school, teacher, full_name="\u200b"))
    assert form.has_error("full_name", code="invisible_characters")


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://example.org")',
        "+Hansen",
        "-Hansen",
        "@SUM Hansen",
        "  =Hansen",  # leading spaces are dropped before the check
    ],
)
def test_the_form_refuses_a_name_a_spreadsheet_would_run_as_a_formula(
    school, school_manager, teacher, name
):
    form = form_for(school_manager, order_data(school, teacher, full_name=name))
    assert form.has_error("full_name", code="formula_start")


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("A\u030ase Bj\u00f8rn", "\u00c5se Bj\u00f8rn"),  # decomposed Å (macOS paste) -> NFC
        ("Ren\u00e9e  \t M\u00fcller-Hansen ", "Ren\u00e9e M\u00fcller-Hansen"),
        ("Sofie\r\nKristensen", "Sofie Kristensen"),
        ("Sofie\u00a0Kristensen", "Sofie Kristensen"),  # no-break space
        ("Sofie\u2028Kristensen", "Sofie Kristensen"),  # Unicode line separator
        ("Anne-Marie O'Brien", "Anne-Marie O'Brien"),
    ],
)
def test_the_form_normalises_the_name_to_nfc_with_single_spaces(
    school, school_manager, teacher, typed, stored
):
    form = form_for(school_manager, order_data(school, teacher, full_name=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["full_name"] == stored


def test_the_form_still_refuses_digits_in_the_name(school, school_manager, teacher):
    form = form_for(school_manager, order_data(school, teacher, full_name="Sofie 2 Hansen"))
    assert form.errors["full_name"] == [danish("The name must not contain digits.")]


# The name, through the order page


def test_a_pasted_name_with_a_bidi_override_is_refused_in_danish(
    client, school, school_manager, teacher
):
    client.force_login(school_manager)
    response = client.post(
        CREATE, order_data(school, teacher, full_name="Sofie \u202enesnaH\u202c")
    )
    assert response.status_code == 200
    assert danish(INVISIBLE) in response.content.decode()
    assert not Order.objects.exists()


def test_a_name_with_a_zero_width_space_is_refused_in_danish(
    client, school, school_manager, teacher
):
    client.force_login(school_manager)
    response = client.post(CREATE, order_data(school, teacher, full_name="Sofie\u200b Kristensen"))
    assert danish(INVISIBLE) in response.content.decode()
    assert not Order.objects.exists()


def test_a_name_starting_with_a_formula_character_is_refused_in_danish(
    client, school, school_manager, teacher
):
    client.force_login(school_manager)
    response = client.post(CREATE, order_data(school, teacher, full_name="=cmd|' /C calc'!A"))
    assert danish(FORMULA) in response.content.decode()
    assert not Order.objects.exists()


def test_a_name_with_a_line_break_is_ordered_as_one_person_for_the_police(
    client, school, school_manager, teacher
):
    client.force_login(school_manager)
    response = client.post(
        CREATE, order_data(school, teacher, full_name="A\u030ase\r\n  Kristensen")
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert order.full_name == "\u00c5se Kristensen"
    assert police_paste_text(list(order.lines.all())).count("\n") == order.lines.count() - 1


# The start date


@pytest.mark.parametrize(
    "start, valid",
    [
        (datetime.date(2027, 3, 11), True),  # exactly a year ahead, local date
        (datetime.date(2027, 3, 12), False),
        (datetime.date(2031, 1, 1), False),
        (datetime.date(2026, 3, 11), True),  # today
        (datetime.date(2026, 3, 10), False),  # yesterday locally, though still today in UTC
    ],
)
def test_the_form_allows_a_start_date_up_to_a_year_ahead_by_local_date(
    school, school_manager, teacher, start, valid
):
    # 00:30 in Copenhagen is still 10 March in UTC: the limit follows the local date.
    with at_copenhagen(2026, 3, 11, 0, 30):
        form = form_for(school_manager, order_data(school, teacher, start_date=start.isoformat()))
    assert form.is_valid() is valid, form.errors
    if start > datetime.date(2027, 3, 11):
        assert form.has_error("start_date", code="too_far_ahead")


@pytest.mark.parametrize(
    "start, valid",
    [
        (datetime.date(2029, 2, 28), True),
        (datetime.date(2029, 3, 1), False),
    ],
)
def test_a_year_ahead_of_a_leap_day_ends_on_28_february(
    school, school_manager, teacher, start, valid
):
    with at_copenhagen(2028, 2, 29, 12, 0):
        form = form_for(school_manager, order_data(school, teacher, start_date=start.isoformat()))
    assert form.is_valid() is valid, form.errors


def test_a_start_date_more_than_a_year_ahead_is_refused_in_danish(
    client, school, school_manager, teacher
):
    client.force_login(school_manager)
    with at_copenhagen(2026, 6, 1, 9, 0):
        response = client.post(CREATE, order_data(school, teacher, start_date="2027-06-02"))
    assert response.status_code == 200
    assert danish(TOO_FAR) in response.content.decode()
    assert not Order.objects.exists()


def test_a_start_date_exactly_a_year_ahead_is_ordered(client, school, school_manager, teacher):
    client.force_login(school_manager)
    with at_copenhagen(2026, 6, 1, 9, 0):
        response = client.post(CREATE, order_data(school, teacher, start_date="2027-06-01"))
    assert response.status_code == 302
    assert Order.objects.get().start_date == datetime.date(2027, 6, 1)


def test_a_start_date_in_the_past_is_still_refused_in_danish(
    client, school, school_manager, teacher
):
    client.force_login(school_manager)
    with at_copenhagen(2026, 6, 1, 0, 30):  # 31 May in UTC
        response = client.post(CREATE, order_data(school, teacher, start_date="2026-05-31"))
    assert danish(PAST) in response.content.decode()
    assert not Order.objects.exists()

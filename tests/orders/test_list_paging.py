"""The order list pages, sorts and filters by unit with the choice in the URL, and costs the
same number of queries however many orders there are."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order
from portal.listing import BoundedPaginator

from ..factories import MembershipFactory, UnitFactory, UserFactory, order_for

LIST = reverse("orders:list")


def names_in(html: str) -> list[str]:
    return re.findall(r'/bestillinger/[0-9a-f-]{36}/">([^<]+)</a>', html)


@pytest.fixture
def secretary(school, school_area):
    """A secretary in two units of the area."""
    user = UserFactory(username="sekretaer")
    MembershipFactory(user=user, unit=school, role="secretary")
    MembershipFactory(user=user, unit=UnitFactory(area=school_area, name="Børnehuset"))
    return user


def test_the_list_sorts_by_name_and_keeps_the_choice_in_the_page_links(
    client, school, school_manager, teacher
):
    for i in range(30):
        order_for(unit=school, profile=teacher, by=school_manager, name=f"Ansat {29 - i:02d}")
    client.force_login(school_manager)

    first = client.get(LIST, {"sort": "name"}).content.decode()
    second = client.get(LIST, {"sort": "name", "page": 2}).content.decode()

    assert names_in(first)[:3] == ["Ansat 00", "Ansat 01", "Ansat 02"]
    assert names_in(second) == [f"Ansat {i:02d}" for i in range(25, 30)]
    assert "sort=name&amp;page=2" in first
    assert "selected>Navn (A–Å)" in first or 'value="name" selected' in first


def test_the_list_shows_newest_orders_first_unless_told_otherwise(
    client, school, school_manager, teacher
):
    for name in ("Først", "Dernæst", "Sidst"):
        order_for(unit=school, profile=teacher, by=school_manager, name=name)
    client.force_login(school_manager)

    assert names_in(client.get(LIST).content.decode()) == ["Sidst", "Dernæst", "Først"]
    assert names_in(client.get(LIST, {"sort": "oldest"}).content.decode()) == [
        "Først",
        "Dernæst",
        "Sidst",
    ]


def test_the_unit_filter_offers_only_the_users_own_units(
    client, school, secretary, school_manager, teacher, care_home
):
    nursery = secretary.memberships.exclude(unit=school).get().unit
    order_for(unit=school, profile=teacher, by=secretary, name="Skolens ansatte")
    order_for(unit=nursery, profile=teacher, by=secretary, name="Børnehusets ansatte")
    client.force_login(secretary)

    html = client.get(LIST).content.decode()
    unit_select = html.split('name="unit"')[1].split("</select>")[0]
    options = re.findall(r'<option value="(\d+)"', unit_select)
    assert sorted(int(o) for o in options) == sorted([school.pk, nursery.pk])
    assert care_home.name not in html

    only_school = client.get(LIST, {"unit": school.pk}).content.decode()
    assert names_in(only_school) == ["Skolens ansatte"]


def test_another_units_id_in_the_unit_filter_is_ignored(
    client, school, secretary, teacher, care_home, care_manager, care_helper
):
    order_for(unit=school, profile=teacher, by=secretary, name="Skolens ansatte")
    order_for(unit=care_home, profile=care_helper, by=care_manager, name="Plejehjemmets ansatte")
    client.force_login(secretary)

    response = client.get(LIST, {"unit": care_home.pk})

    assert response.status_code == 200
    assert names_in(response.content.decode()) == ["Skolens ansatte"]


def test_a_manager_of_one_unit_is_not_offered_a_unit_filter(client, school_manager):
    client.force_login(school_manager)
    assert 'name="unit"' not in client.get(LIST).content.decode()


def test_payroll_pages_sorted_and_filtered_lists_in_a_fixed_number_of_queries(
    client, school, school_manager, teacher, payroll, django_assert_max_num_queries
):
    order_for(unit=school, profile=teacher, by=school_manager)
    client.force_login(payroll)
    params = {"sort": "start", "unit": school.pk, "status": "new", "q": "ansat", "page": 2}
    client.get(LIST, params)
    with CaptureQueriesContext(connection) as one_order:
        client.get(LIST, params)
    for _ in range(60):
        order_for(unit=school, profile=teacher, by=school_manager)

    with django_assert_max_num_queries(len(one_order.captured_queries)):
        html = client.get(LIST, params).content.decode()
    assert len(names_in(html)) == 25


def test_the_count_stops_at_its_limit(school, school_manager, teacher):
    for _ in range(4):
        order_for(unit=school, profile=teacher, by=school_manager)

    paginator = BoundedPaginator(Order.objects.all(), 2, limit=3)

    assert (paginator.count, paginator.capped, paginator.num_pages) == (3, True, 2)
    assert not BoundedPaginator(Order.objects.all(), 2, limit=10).capped

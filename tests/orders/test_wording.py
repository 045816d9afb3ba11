"""Wording and offers a Danish manager found odd: positions per unit type, why a child
certificate is required, which open orders block a new one, and the demo's login hint."""

from django.urls import reverse

from orders.models import Order
from portal.models import UnitType

from ..conftest import CHILD
from ..factories import (
    MembershipFactory,
    PositionProfileFactory,
    UnitFactory,
    basis,
    order_for,
    require,
)
from .test_views import CREATE, order_data


def test_a_daycare_is_not_offered_school_positions(
    client, school, school_area, school_manager, teacher, school_secretary
):
    school_type = UnitType.objects.create(name="Skole")
    daycare_type = UnitType.objects.create(name="Dagtilbud")
    school.unit_type = school_type
    school.save()
    daycare = UnitFactory(area=school_area, name="Børnehuset", unit_type=daycare_type)
    teacher.unit_type = school_type
    teacher.save()
    pedagogue = PositionProfileFactory(area=school_area, name="Pædagog")  # every unit type
    require(pedagogue, basis("child", CHILD))
    leader = MembershipFactory(unit=daycare).user
    client.force_login(leader)

    page = client.get(CREATE).content.decode()

    assert "Pædagog" in page
    assert "Lærer" not in page
    assert "Skolesekretær" in page  # no type: offered to every unit of the area
    refused = client.post(CREATE, order_data(daycare, teacher))
    assert refused.status_code == 200 and not Order.objects.exists()
    client.post(CREATE, order_data(daycare, pedagogue))
    assert Order.objects.get().profile == pedagogue

    client.force_login(school_manager)
    assert "Lærer" in client.get(CREATE).content.decode()


def test_a_child_certificate_from_the_children_question_says_why(
    client, school, school_manager, school_secretary, teacher
):
    client.force_login(school_manager)
    asked = client.get(
        CREATE,
        {"unit": school.pk, "profile": school_secretary.pk, "child_contact": "yes"},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Påkrævet: kontakt med børn under 15 år" in asked
    assert "Påkrævet for stillingen" not in asked

    by_position = client.get(
        CREATE, {"unit": school.pk, "profile": teacher.pk}, headers={"HX-Request": "true"}
    ).content.decode()
    assert "Påkrævet for stillingen" in by_position


def test_the_duplicate_message_names_every_open_kind(client, school, school_manager, teacher):
    order_for(unit=school, profile=teacher, by=school_manager, cpr="1203961234")
    client.force_login(school_manager)
    html = client.post(CREATE, order_data(school, teacher)).content.decode()
    assert (
        "Denne person har allerede åbne bestillinger af en børneattest og en offentlig "
        "straffeattest." in html
    )


def test_the_search_field_says_cpr_numbers_cannot_be_searched(client, school_manager):
    client.force_login(school_manager)
    html = client.get(reverse("orders:list")).content.decode()
    assert 'placeholder="Navn, ikke CPR"' in html


def test_the_login_page_names_every_demo_user(client, settings):
    settings.DEMO_MODE = True
    html = client.get(reverse("login")).content.decode()
    for username in ("leder.skole", "sekretaer.skole", "leder.aeldre", "loen", "admin"):
        assert f"<code>{username}</code>" in html

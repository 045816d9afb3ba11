"""A form sent with problems answers with one error summary at the top: a heading, each
problem as a link to its field's id, problems of the whole form as plain items
(templates/includes/error_summary.html)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import CertificateKind, Order
from portal.cpr import mask_cpr
from robot.models import Phrase, RuleSet
from robot.rules import ensure_standard_rules

from ..factories import UserFactory, make_cpr, order_for
from ..robot.conftest import sample
from ..robot.test_pipeline import receive


def summary(response) -> str:
    html = response.content.decode()
    found = re.findall(r"<div [^>]*data-error-summary.*?</div>", html, re.S)
    assert len(found) == 1, "exactly one error summary"
    assert 'role="alert"' in found[0] and 'tabindex="-1"' in found[0]
    assert "Der er et problem" in found[0]
    return found[0]


def links(box: str) -> list[str]:
    return re.findall(r'<a href="#([^"]+)"', box)


def assert_targets_exist(response, box: str) -> None:
    html = response.content.decode()
    for target in links(box):
        assert f'id="{target}"' in html, f"#{target} has no element on the page"


def test_an_empty_order_links_each_missing_field(client, school, school_manager, teacher):
    client.force_login(school_manager)

    response = client.post(reverse("orders:create"), {"unit": school.pk, "profile": teacher.pk})

    box = summary(response)
    assert {"id_full_name", "id_cpr", "id_start_date"} <= set(links(box))
    assert "Fulde navn: Dette felt er påkrævet." in box
    assert_targets_exist(response, box)
    assert "Ret venligst" not in response.content.decode()


def test_a_duplicate_order_is_a_plain_item_with_the_way_to_the_existing_order(
    client, school, school_manager, teacher
):
    cpr = make_cpr()
    existing = order_for(unit=school, profile=teacher, by=school_manager, cpr=cpr)
    client.force_login(school_manager)
    form = client.get(reverse("orders:create")).content.decode()
    token = re.search(r'name="submission_token" value="([^"]+)"', form).group(1)

    response = client.post(
        reverse("orders:create"),
        {
            "submission_token": token,
            "unit": school.pk,
            "full_name": "Sofie Holm",
            "cpr": cpr,
            "start_date": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
            "profile": teacher.pk,
            "child_contact": "yes",
        },
    )

    box = summary(response)
    assert links(box) == []
    assert reverse("orders:detail", kwargs={"public_id": existing.public_id}) in box
    assert Order.objects.count() == 1


def test_the_correction_form_links_the_wrong_start_date(client, school, school_manager, teacher):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    client.force_login(school_manager)

    response = client.post(
        reverse("orders:correct", kwargs={"public_id": order.public_id}),
        {"full_name": "", "start_date": "i morgen"},
    )

    box = summary(response)
    assert {"id_full_name", "id_start_date"} <= set(links(box))
    assert_targets_exist(response, box)


def test_the_access_log_export_links_the_cpr_field_and_never_repeats_the_number(client, payroll):
    client.force_login(payroll)

    response = client.post(reverse("access_log_export"), {"cpr": "0101901234x"})

    box = summary(response)
    assert links(box) == ["id_cpr"]
    assert "0101901234" not in box and mask_cpr("0101901234") not in box


def test_the_login_links_empty_fields_and_lists_a_wrong_password_plainly(client, school_manager):
    empty = client.post(reverse("login"), {"username": "", "password": ""})
    wrong = client.post(reverse("login"), {"username": "leder.a", "password": "forkert"})

    assert links(summary(empty)) == ["id_username", "id_password"]
    wrong_box = summary(wrong)
    assert links(wrong_box) == []
    assert "<li>" in wrong_box


def test_the_reauthentication_links_the_password(client, admin_user):
    client.force_login(admin_user)

    response = client.post(reverse("reauthenticate"), {"password": "forkert"})

    assert links(summary(response)) == ["id_password"]


def test_the_hr_and_organisation_imports_link_the_missing_file(client, payroll):
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True, is_payroll=True)
    client.force_login(admin)

    hires = client.post(reverse("payroll:hire_imports"), {"sent": "1"})
    organisation = client.post(reverse("org_import"), {"sent": "1"})

    assert links(summary(hires)) == ["id_file"]
    assert "id_units" in links(summary(organisation))


@pytest.fixture
def rules(db):
    ensure_standard_rules(RuleSet, Phrase, CertificateKind)


def test_discarding_without_a_reason_links_the_discard_forms_reason(client, rules, payroll):
    document = receive("scan.pdf", sample("ukendt_dokument.pdf"))
    client.force_login(payroll)

    response = client.post(reverse("robot:document_discard", args=[document.pk]), {})

    box = summary(response)
    assert links(box) == ["discard_reason"]
    assert_targets_exist(response, box)


def test_a_group_of_radios_is_linked_through_its_first_radio(client, rules, payroll):
    client.force_login(payroll)

    response = client.post(reverse("robot:intake"), {"sent": "1"})

    box = summary(response)
    assert "id_origin_0" in links(box)
    assert_targets_exist(response, box)


def test_the_statistics_filter_swapped_in_by_htmx_brings_its_summary(client, payroll):
    client.force_login(payroll)

    response = client.get(
        reverse("statistics:page"), {"fra": "2026-13"}, headers={"HX-Request": "true"}
    )

    box = summary(response)
    assert links(box) == ["id_fra"]
    assert "Viser de seneste tolv måneder." in box

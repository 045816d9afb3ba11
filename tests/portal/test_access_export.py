import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader

from orders.models import AccessLog
from orders.services import log_access
from robot.retention import apply_retention

from ..factories import order_for

CPH = zoneinfo.ZoneInfo("Europe/Copenhagen")
T0 = datetime.datetime(2025, 3, 3, 10, 0, tzinfo=CPH)
CPR = "1503871234"
OTHER_CPR = "2208925678"
URL = "/adgangslog/"


@pytest.fixture
def looked_up(school, teacher, care_home, care_helper, school_manager, care_manager, payroll):
    """Søren's order viewed by his manager and by payroll; Bente's by another unit."""
    with time_machine.travel(T0, tick=False):
        soeren = order_for(
            unit=school, profile=teacher, by=school_manager, name="Søren Ærøe", cpr=CPR
        )
    with time_machine.travel(T0 + datetime.timedelta(days=1), tick=False):
        log_access(user=school_manager, action=AccessLog.Action.VIEW_ORDER, orders=[soeren])
        bente = order_for(
            unit=care_home, profile=care_helper, by=care_manager, name="Bente Berg", cpr=OTHER_CPR
        )
        log_access(user=care_manager, action=AccessLog.Action.VIEW_ORDER, orders=[bente])
    with time_machine.travel(T0 + datetime.timedelta(days=2), tick=False):
        log_access(user=payroll, action=AccessLog.Action.LIST_ORDERS, orders=[soeren])
    return soeren


def pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_payroll_downloads_the_persons_access_log_newest_first(client, payroll, looked_up):
    client.force_login(payroll)

    response = client.post(URL, {"cpr": "150387-1234"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert "150387" not in response["Content-Disposition"]
    text = pdf_text(response)
    assert "Søren Ærøe (150387-xxxx)" in text and "1503871234" not in text
    rows = [line for line in text.splitlines() if "Nordskolen: Søren Ærøe" in line]
    assert rows == [
        "5. marts 2025 10:00 loen Så bestillingen på en liste Nordskolen: Søren Ærøe",
        "4. marts 2025 10:00 leder.a Så bestillingen Nordskolen: Søren Ærøe",
        "3. marts 2025 10:00 leder.a Oprettede bestillingen Nordskolen: Søren Ærøe",
    ]


def test_the_export_lists_no_other_persons_views(client, payroll, looked_up):
    client.force_login(payroll)

    text = pdf_text(client.post(URL, {"cpr": CPR}))

    assert "Bente" not in text and "leder.b" not in text
    assert "Plejecenter Solgården" not in text


def test_the_export_is_itself_in_the_persons_access_log(client, payroll, looked_up):
    client.force_login(payroll)
    client.post(URL, {"cpr": CPR})

    entry = AccessLog.objects.filter(person=looked_up.person).order_by("-at", "-pk").first()
    assert (entry.user, entry.action) == (payroll, AccessLog.Action.DOWNLOAD_LETTER)
    assert "Hentede et brev" in pdf_text(client.post(URL, {"cpr": CPR}))


def test_an_administrator_may_export(client, admin_user, looked_up):
    client.force_login(admin_user)
    response = client.post(URL, {"cpr": CPR})
    assert response["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("who", ["school_manager", "care_manager"])
def test_managers_get_404(client, looked_up, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(URL).status_code == 404
    assert client.post(URL, {"cpr": CPR}).status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.DOWNLOAD_LETTER).exists()


def test_the_cpr_is_posted_never_put_in_the_url(client, payroll, looked_up):
    client.force_login(payroll)

    page = client.get(URL).content.decode()
    assert 'method="post"' in page and f'action="{reverse("access_log_export")}"' in page
    # A CPR number in the address is ignored: no export, no log entry.
    response = client.get(URL, {"cpr": CPR})
    assert response["Content-Type"].startswith("text/html")
    assert CPR not in response.content.decode()
    assert not AccessLog.objects.filter(action=AccessLog.Action.DOWNLOAD_LETTER).exists()
    # A successful export answers in place, without a redirect that could carry it.
    assert client.post(URL, {"cpr": CPR}).status_code == 200


def test_an_invalid_cpr_is_refused_in_danish(client, payroll, looked_up):
    client.force_login(payroll)

    response = client.post(URL, {"cpr": "12345"})

    assert response["Content-Type"].startswith("text/html")
    assert "Skriv CPR-nummeret med 10 cifre" in response.content.decode()


def test_an_unknown_or_anonymised_person_is_not_found(client, payroll, looked_up):
    client.force_login(payroll)
    response = client.post(URL, {"cpr": "0101900001"})
    assert response["Content-Type"].startswith("text/html")
    assert response.context["form"].has_error("cpr", "unknown_person")

    looked_up.lines.update(status="cleared")
    with time_machine.travel(T0 + datetime.timedelta(days=400), tick=False):
        apply_retention()
    response = client.post(URL, {"cpr": CPR})
    assert response.context["form"].has_error("cpr", "unknown_person")

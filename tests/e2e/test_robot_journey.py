import pytest
from playwright.sync_api import expect

from orders import batching
from orders.models import Order
from portal.celery import app
from portal.models import User

from ..conftest import SAMPLES

pytestmark = pytest.mark.e2e


@pytest.fixture
def tasks_in_process():
    """The live server has no worker beside it: run the robot's tasks in-process."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def ordered_demo(demo):
    from orders.services import place_order
    import uuid
    from django.utils import timezone
    from portal.models import Unit

    manager = User.objects.get(username="leder.skole")
    unit = Unit.objects.get(name="Nordskolen")
    profile = unit.area.profiles.get(name="Lærer")
    for name, cpr in (("Søren Ærøe", "1111803335"), ("Åse Marie Østergård", "0101904321")):
        place_order(by=manager, unit=unit, profile=profile, full_name=name, cpr=cpr,
                    start_date=timezone.localdate(), child_contact=None,
                    submission_token=uuid.uuid4(),
                    legal_bases=[r.legal_basis for r in profile.requirements.all()])
    payroll = User.objects.get(username="loen")
    for batch in batching.prepare_batches(by=payroll):
        batching.mark_batch_ordered(batch=batch, by=payroll)


def test_payroll_uploads_returned_certificates_and_decides_a_flagged_one(
    page, live_server, ordered_demo, login, tasks_in_process
):
    login(page, "loen")
    page.goto(f"{live_server.url}/modtagelse/")
    files = [SAMPLES / n for n in ("boerneattest_ren.pdf", "boerneattest_plettet.pdf",
                                   "ukendt_dokument.pdf")]
    page.set_input_files("#id_files", [str(f) for f in files])
    page.get_by_role("button", name="Upload").click()

    rows = page.locator("#upload-results tbody tr")
    expect(rows.filter(has_text="boerneattest_plettet.pdf")).to_contain_text(
        "Ikke ren: afventer vurdering")
    expect(rows.filter(has_text="boerneattest_ren.pdf")).to_contain_text("Færdig")
    expect(rows.filter(has_text="ukendt_dokument.pdf")).to_contain_text("Skal vurderes")

    page.get_by_role("link", name="Modtagne attester").click()
    page.get_by_role("link", name="boerneattest_plettet.pdf").click()
    expect(page.locator(".evidence")).to_contain_text("registreret med følgende afgørelser")
    page.get_by_label("Relevans for stillingen").fill("Dommen er 8 år gammel og vedrører ikke børn.")
    page.get_by_label("Ja").check()
    page.get_by_label("Kan ansættes").check()
    page.get_by_label("Begrundelse").fill("Drøftet med ansøger; ikke relevant for stillingen.")
    page.get_by_role("button", name="Gem vurderingen").click()
    expect(page.locator(".messages")).to_be_visible()

    soren = Order.objects.get(full_name="Søren Ærøe")
    assert soren.lines.get(kind__code="child").status == "cleared"

    manager = page.context.browser.new_context().new_page()
    login(manager, "leder.skole")
    manager.get_by_role("link", name="Søren Ærøe").click()
    expect(manager.locator(".line", has_text="Børneattest")).to_contain_text("Godkendt")
    expect(manager.locator("main")).not_to_contain_text("Hjørring")
    expect(manager.locator("main")).not_to_contain_text("Fængsel")
    manager.context.close()

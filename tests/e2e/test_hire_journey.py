"""A new-hire report is uploaded by payroll; the school's manager sees the prompt and sends
the pre-filled order in at most four interactions, without typing the CPR number."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import Hire, JobCode, Order, PositionProfile
from portal.models import Area

pytestmark = pytest.mark.e2e


def test_uploaded_new_hire_becomes_a_ready_order(page, browser, live_server, demo, login, tmp_path):
    area = Area.objects.get(name="Børn og Unge")
    JobCode.objects.create(
        area=area, code="SEK", profile=PositionProfile.objects.get(area=area, name="Skolesekretær")
    )
    start = timezone.localdate() + datetime.timedelta(days=25)
    report = tmp_path / "nyansatte.csv"
    report.write_text(
        "Ansættelsesnummer;Navn;CPR-nummer;Afdeling;Startdato;Stillingskode\n"
        f"A-77;Freja Nørgaard;120395-1234;Nordskolen;{start:%d.%m.%Y};SEK\n",
        encoding="utf-8",
    )

    login(page, "loen")
    page.goto(f"{live_server.url}/loen/nyansatte/import/")
    page.locator("input[type=file]").set_input_files(str(report))
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("main table")).to_contain_text("Freja Nørgaard")
    assert not Hire.objects.exists()  # the dry run changed nothing
    page.locator("form.form-actions button:not([name=discard])").click()
    expect(page.locator("form.form-actions")).to_have_count(0)  # applied: no more buttons
    assert Hire.objects.get().status == Hire.Status.AWAITING_ORDER

    manager_context = browser.new_context()
    manager = manager_context.new_page()
    login(manager, "leder.skole")
    prompt = manager.locator("section[aria-labelledby=hire-prompts-title]")
    expect(prompt).to_contain_text("Freja Nørgaard")
    expect(prompt).to_contain_text("120395-xxxx")

    manager.get_by_role("link", name="Freja Nørgaard").or_(
        prompt.locator("a.button")
    ).first.click()  # 1
    expect(manager.get_by_label("Fulde navn")).to_have_value("Freja Nørgaard")
    expect(manager.locator("main")).not_to_contain_text("1203951234")
    manager.get_by_label("Ja").check()  # 2
    manager.get_by_role("button", name="Send bestilling").click()  # 3

    expect(manager.get_by_role("heading", level=1)).to_have_text("Freja Nørgaard")
    order = Order.objects.get(full_name="Freja Nørgaard")
    assert order.person.cpr == "1203951234"
    assert list(order.lines.values_list("kind__code", flat=True)) == ["child"]
    assert Hire.objects.get().status == Hire.Status.ORDERED
    assert "120395" not in manager.url
    manager_context.close()

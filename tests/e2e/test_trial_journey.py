"""Trial mode in the browser: the robot proposes, payroll confirms or overrules."""

import re
import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from orders import batching
from orders.models import Order
from orders.services import place_order
from portal.models import Unit, User
from robot.models import Document, ModeSwitch, Proposal
from robot.synthetic import certificate_pdf

from ..conftest import SAMPLES
from ..robot.conftest import as_from_the_police

pytestmark = pytest.mark.e2e

ASE = ("Åse Marie Østergård", "0101904321")
SOREN = ("Søren Ærøe", "1111803335")
PROPOSED = "Robottens forslag: afventer bekræftelse"
REASON = "Attesten nævner en afgørelse på side 2, som robotten ikke læste."


@pytest.fixture
def ordered_hires(demo):
    """Two teachers at Nordskolen, their certificates ordered at the police in batches."""
    manager = User.objects.get(username="leder.skole")
    unit = Unit.objects.get(name="Nordskolen")
    profile = unit.area.profiles.get(name="Lærer")
    for name, cpr in (ASE, SOREN):
        place_order(
            by=manager,
            unit=unit,
            profile=profile,
            full_name=name,
            cpr=cpr,
            start_date=timezone.localdate(),
            child_contact=None,
            submission_token=uuid.uuid4(),
            legal_bases=[r.legal_basis for r in profile.requirements.all()],
        )
    payroll = User.objects.get(username="loen")
    for batch in batching.prepare_batches(by=payroll):
        batching.mark_batch_ordered(batch=batch, by=payroll)
    assert not ModeSwitch.objects.exists()  # every kind is in trial mode


def clean_child_certificate(name: str, cpr: str) -> bytes:
    """The clean sample's text, about another person."""
    text = PdfReader(SAMPLES / "boerneattest_ren.pdf").pages[0].extract_text()
    formatted = f"{cpr[:6]}-{cpr[6:]}"
    text = text.replace(ASE[0], name).replace("010190-4321", formatted)
    return certificate_pdf([line for line in text.splitlines() if line.strip()])


def stamped(tmp_path, name: str, data: bytes) -> str:
    """Written as the police return it for our order: with the batch's secret reference."""
    returned = as_from_the_police(data)
    assert returned != data, f"{name}: no ordered line to stamp it for"
    path = tmp_path / name
    path.write_bytes(returned)
    return str(path)


def order_page(manager, live_server, name: str):
    manager.goto(f"{live_server.url}/bestillinger/")
    manager.get_by_role("link", name=name).click()
    return manager.locator(".line", has_text="Børneattest")


def test_payroll_confirms_one_proposal_by_keyboard_and_overrules_the_next(
    page,
    live_server,
    ordered_hires,
    login,
    tasks_in_process,
    tmp_path,
):
    files = [
        stamped(tmp_path, "boerneattest_ase.pdf", (SAMPLES / "boerneattest_ren.pdf").read_bytes()),
        stamped(tmp_path, "boerneattest_soeren.pdf", clean_child_certificate(*SOREN)),
    ]
    login(page, "loen")
    page.goto(f"{live_server.url}/modtagelse/")
    page.get_by_label("Hentet i kommunens Digital Post-postkasse").check()
    page.set_input_files("#id_files", files)
    page.get_by_role("button", name="Upload").click()
    rows = page.locator("#upload-results tbody tr")
    # What the robot read, at a glance, and that a person still confirms it.
    expect(rows.filter(has_text="boerneattest_ase.pdf")).to_contain_text("Forslag: ren – bekræft")
    expect(rows.filter(has_text="boerneattest_soeren.pdf")).to_contain_text(
        "Forslag: ren – bekræft"
    )

    # Nothing reaches the manager before payroll has confirmed.
    manager = page.context.browser.new_context().new_page()
    login(manager, "leder.skole")
    expect(order_page(manager, live_server, ASE[0])).to_contain_text("Bestilt – afventer samtykke")
    ase_line = Order.objects.get(full_name=ASE[0]).lines.get(kind__code="child")
    assert ase_line.status == "ordered"

    # Payroll opens the proposals' tab and the oldest proposal.
    page.get_by_role("link", name="Modtagne attester").click()
    page.locator("nav.tabs").get_by_role("link", name=re.compile(PROPOSED)).click()
    expect(page).to_have_url(re.compile(r"\?state=proposed$"))
    table_rows = page.locator("#queue-table tbody tr")
    expect(table_rows).to_have_count(2)
    expect(table_rows.first).to_contain_text(ASE[0])
    table_rows.first.get_by_role("link", name="boerneattest_ase.pdf").click()

    expect(page.get_by_role("heading", name="Robotten foreslår: ren")).to_be_visible()
    expect(page.locator(".provenance .check-passed", has_text="Batchreference")).to_be_visible()
    expect(page.locator(".provenance .check-failed")).to_have_count(0)
    confirm = page.get_by_role("button", name="Bekræft: ren")
    expect(confirm).to_be_focused()
    first_url = page.url
    page.keyboard.press("b")

    # The next proposal opens by itself.
    expect(page).not_to_have_url(first_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("boerneattest_soeren.pdf")
    expect(page.locator(".messages")).to_contain_text("Bekræftet: ren.")
    expect(page.get_by_role("button", name="Bekræft: ren")).to_be_focused()
    ase_line.refresh_from_db()
    assert ase_line.status == "cleared"

    expect(order_page(manager, live_server, ASE[0])).to_contain_text("Godkendt")

    # The second proposal is wrong: payroll overrules it to "not clean".
    page.get_by_text("Robotten tager fejl: underkend").click()
    outcome = page.get_by_label("Hvad dokumentet reelt siger")
    expect(outcome).to_have_value("")  # nothing preselected
    outcome.select_option(label="Ikke ren: til vurdering")
    page.get_by_label("Hvorfor robotten tog fejl").fill(REASON)
    page.get_by_role("button", name="Underkend").click()

    expect(page.locator(".messages")).to_contain_text("Underkendt: resultatet er nu ikke ren.")
    expect(page.get_by_role("heading", level=1)).to_have_text("boerneattest_soeren.pdf")
    expect(page.locator(".page-head .status")).to_have_text("Ikke ren: afventer vurdering")
    expect(page.get_by_role("heading", name="Vurder attesten")).to_be_visible()
    expect(page.get_by_role("button", name="Bekræft: ren")).to_have_count(0)
    soren_line = Order.objects.get(full_name=SOREN[0]).lines.get(kind__code="child")
    assert soren_line.status == "in_review"
    assert Document.objects.get(original_name="boerneattest_soeren.pdf").state == "not_clean"
    assert not Proposal.objects.filter(decided="").exists()

    soren = order_page(manager, live_server, SOREN[0])
    expect(soren).to_contain_text("Vurderes af lønkontoret")
    main = manager.locator("main")
    for secret in (
        REASON,
        "ikke registreret",
        "Ikke ren",
        "afgørelse",
        "Journalnr",
        "boerneattest",
        soren_line.batch.secret,
    ):
        expect(main).not_to_contain_text(secret)
    manager.context.close()

    # Payroll sees the figures too, but only an administrator may switch the mode.
    page.locator("summary", has_text="Lønkontor").click()  # payroll's tools menu
    page.get_by_role("link", name="Robotten").click()
    expect(page.get_by_role("heading", name="Børneattest", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Lad robotten handle selv")).to_have_count(0)

    # The administrator sees the agreement, and that the robot may not act alone.
    admin = page.context.browser.new_context().new_page()
    admin.goto(f"{live_server.url}/log-ind/")  # an administrator has no orders page
    admin.get_by_label("Brugernavn").fill("admin")
    admin.get_by_label("Adgangskode").fill("demo")
    admin.get_by_role("button", name="Log ind").click()
    admin.wait_for_url(f"{live_server.url}/")
    admin.locator("summary", has_text="Administration").click()  # the administrator's menu
    admin.get_by_role("link", name="Robotten").click()
    child = admin.locator(
        "section", has=admin.get_by_role("heading", name="Børneattest", exact=True)
    )

    def figure(label: str):
        return child.locator(
            "tr", has=admin.locator("th", has_text=re.compile(f"^{label}$"))
        ).locator("td")

    expect(figure("Forslag")).to_have_text("2")
    expect(figure("Bekræftet")).to_have_text(re.compile(r"^1 – "))
    overruled = child.locator("tr", has_text="Underkendt: robot »Ren«, person »Ikke ren«")
    expect(overruled.locator("td")).to_have_text("1")
    expect(child.get_by_role("alert")).to_be_visible()
    expect(child.get_by_role("button", name="Lad robotten handle selv")).to_be_disabled()
    expect(child).to_contain_text("Ikke muligt: en farlig uenighed under disse regler.")
    admin.context.close()

import uuid
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders import batching
from orders.models import CertificateKind, Order
from orders.services import place_order
from portal.models import Unit, User
from robot.models import Document, ModeSwitch, RuleSet

from ..conftest import SAMPLES
from ..robot.conftest import as_from_the_police

pytestmark = pytest.mark.e2e

# Hires ordered in the journeys below: (unit, profile, ordered by, name, CPR).
HIRES = (
    ("Nordskolen", "Lærer", "leder.skole", "Søren Ærøe", "1111803335"),
    ("Nordskolen", "Lærer", "leder.skole", "Åse Marie Østergård", "0101904321"),
    # The person on the sample of a clean public criminal record certificate.
    (
        "Plejecenter Solgården",
        "Social- og sundhedshjælper",
        "leder.aeldre",
        "Jens Peter Hansen",
        "1502851357",
    ),
)


@pytest.fixture
def ordered_demo(demo):
    for unit_name, profile_name, username, name, cpr in HIRES:
        unit = Unit.objects.get(name=unit_name)
        profile = unit.area.profiles.get(name=profile_name)
        place_order(
            by=User.objects.get(username=username),
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


@pytest.fixture
def robot_alone(ordered_demo, settings):
    """Every kind in automatic mode with no random checks, as after a finished trial."""
    settings.AUTOMATIC_SAMPLE_PERCENT = 0
    ruleset = RuleSet.objects.get(is_active=True)
    payroll = User.objects.get(username="loen")
    for kind in CertificateKind.objects.all():
        ModeSwitch.objects.create(
            kind=kind, ruleset=ruleset, mode=ModeSwitch.Mode.AUTOMATIC, switched_by=payroll
        )


def returned_by_the_police(tmp_path, name: str) -> str:
    """The sample as the police return it for our order, under its own file name."""
    raw = (SAMPLES / name).read_bytes()
    stamped = as_from_the_police(raw)
    target = tmp_path / "politiet" / name
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(stamped)
    return str(target)


def test_payroll_uploads_returned_certificates_and_decides_a_flagged_one(
    page, live_server, robot_alone, login, tasks_in_process, tmp_path
):
    stamped = [
        returned_by_the_police(tmp_path, n)
        for n in ("boerneattest_ren.pdf", "boerneattest_plettet.pdf", "ukendt_dokument.pdf")
    ]
    for path in map(Path, stamped[:2]):  # else it would upload unstamped files by mistake
        assert path.read_bytes() != (SAMPLES / path.name).read_bytes()
    # A clean certificate for another ordered person, uploaded just as the sample is: it
    # does not carry the secret reference of the batch its person was ordered in.
    raw = str(SAMPLES / "offentlig_straffeattest_ren.pdf")

    login(page, "loen")
    page.goto(f"{live_server.url}/modtagelse/")
    page.get_by_label("Hentet i kommunens Digital Post-postkasse").check()
    page.set_input_files("#id_files", stamped + [raw])
    page.get_by_role("button", name="Upload").click()

    rows = page.locator("#upload-results tbody tr")
    # Each row says what happened, not just that reading is done.
    expect(rows.filter(has_text="boerneattest_plettet.pdf")).to_contain_text(
        "Ikke ren: til vurdering"
    )
    expect(rows.filter(has_text="boerneattest_ren.pdf")).to_contain_text("Ren")
    expect(rows.filter(has_text="boerneattest_ren.pdf")).not_to_contain_text("Færdig")
    expect(rows.filter(has_text="ukendt_dokument.pdf")).to_contain_text("Skal vurderes")
    unproven = rows.filter(has_text="offentlig_straffeattest_ren.pdf")
    expect(unproven).to_contain_text("Skal vurderes")
    expect(unproven).to_contain_text("Ikke godtaget som kommende fra politiet")

    ase = Order.objects.get(full_name="Åse Marie Østergård")
    assert ase.lines.get(kind__code="child").status == "cleared"
    assert Document.objects.get(original_name="boerneattest_ren.pdf").state == "done"
    jens = Order.objects.get(full_name="Jens Peter Hansen").lines.get()
    assert jens.status == "ordered"
    assert Document.objects.get(original_name="offentlig_straffeattest_ren.pdf").state == (
        "needs_review"
    )

    # Its page says why it was not believed.
    unproven.get_by_role("link", name="offentlig_straffeattest_ren.pdf").click()
    expect(page.locator(".page-head .status")).to_have_text("Skal vurderes")
    expect(page.locator(".facts")).to_contain_text(
        f"Referencen for batch {jens.batch.reference}, som personen blev bestilt i, står "
        "ikke i attestens Rekvirent-linje eller i beskeden."
    )
    expect(page.get_by_role("heading", name="Hvor den kom fra")).to_be_visible()
    expect(page.locator(".provenance .check-failed")).to_contain_text(
        "Batchreference ✗ ikke bestået"
    )
    expect(page.get_by_role("heading", name="Knyt til bestilling manuelt")).to_be_visible()

    page.get_by_role("link", name="Modtagne attester").click()
    page.get_by_role("link", name="boerneattest_plettet.pdf").click()
    expect(page.locator(".provenance .check-passed", has_text="Batchreference")).to_contain_text(
        "✓ bestået"
    )
    expect(page.locator(".provenance .check-failed")).to_have_count(0)
    expect(page.locator(".provenance .check-passed", has_text="Kanal")).to_contain_text(
        "hentet i kommunens Digital Post-postkasse"
    )
    expect(page.locator(".evidence")).to_contain_text("registreret med følgende afgørelser")
    page.get_by_label("Relevans for stillingen").fill(
        "Dommen er 8 år gammel og vedrører ikke børn."
    )
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
    secret = soren.lines.get(kind__code="child").batch.secret
    assert secret
    expect(manager.locator("main")).not_to_contain_text(secret)
    manager.context.close()

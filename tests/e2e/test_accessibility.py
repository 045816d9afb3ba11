"""axe-core on every page type for every role, including the states htmx changes and the
error states: no violation of a WCAG 2.1 A or AA rule anywhere (webtilgængelighedsloven).

One browser; one context per role; each test visits its role's pages in turn, checks each
state at a phone's width (390 px) and the desktop's (1280 px), and reports every violation
it met at the end, so one run shows all that is wrong."""

import datetime
import re
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from orders import batching
from orders.hires import apply_hire_import, start_file_import
from orders.models import JobCode, Order, PoliceBatch, PositionProfile
from orders.services import place_order
from portal.models import Area, Unit, User
from robot.models import Document

from ..conftest import SAMPLES
from ..robot.conftest import as_from_the_police

pytestmark = pytest.mark.e2e

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Named on top of the tags: unique ids (success criterion 4.1.1, part of WCAG 2.1; axe
# switched its rules off when WCAG 2.2 dropped it; see also DUPLICATE_IDS), and axe's
# "best practice" rules behind info and relationships (1.3.1), bypass blocks (2.4.1) and
# headings (2.4.6): headings in order, one main landmark, all content in landmarks.
STRUCTURE = (
    "duplicate-id",
    "duplicate-id-active",
    "heading-order",
    "page-has-heading-one",
    "empty-heading",
    "landmark-one-main",
    "landmark-unique",
    "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo",
    "landmark-no-duplicate-main",
    "region",
)
WIDTHS = ((390, 844), (1280, 900))
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_21_AA},
    "rules": {rule: {"enabled": True} for rule in STRUCTURE},
    "resultTypes": ["violations"],
}

# People on the synthetic samples, ordered so that their answers match: (unit, profile,
# ordered by, name, CPR).
SAMPLE_HIRES = (
    ("Nordskolen", "Lærer", "leder.skole", "Åse Marie Østergård", "0101904321"),
    ("Nordskolen", "Lærer", "leder.skole", "Søren Ærøe", "1111803335"),
    ("Nordskolen", "Lærer", "leder.skole", "Mette Holm", "1205882468"),
    ("Plejecenter Solgården", "Sygeplejerske", "leder.aeldre", "Bo Nielsen", "0303991113"),
)
UNKNOWN = "ukendt_dokument.pdf"
UPLOADED = (
    "boerneattest_ren.pdf",
    "boerneattest_plettet.pdf",
    "offentlig_straffeattest_plettet.pdf",
    "afslag_boerneattest.pdf",
    "ukendt_dokument.pdf",
)


# axe's own duplicate-id rules let two form fields with one id pass (seen on the review
# page: the label of one form pointed at the other form's field), so the page is asked.
DUPLICATE_IDS = """() => {
  const seen = {};
  for (const el of document.querySelectorAll("[id]")) {
    (seen[el.id] = seen[el.id] || []).push(el.tagName.toLowerCase());
  }
  return Object.fromEntries(Object.entries(seen).filter(([, tags]) => tags.length > 1));
}"""


def one_line(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Audit:
    """Runs axe on a page and keeps what it found, page by page."""

    def __init__(self):
        self.axe = Axe()
        self.found: list[str] = []
        self.pages: list[str] = []

    def check(self, page, state: str) -> None:
        page.wait_for_load_state("load")
        self.pages.append(state)
        for id_, tags in page.evaluate(DUPLICATE_IDS).items():
            self.found.append(
                f"{state} ({page.url})\n  duplicate-id [serious]: id {id_!r} is used by "
                f"{', '.join(tags)}; a label or reference to it finds only the first"
            )
        # On a phone, then back on the desktop where the journey goes on.
        for width, height in WIDTHS:
            page.set_viewport_size({"width": width, "height": height})
            results = self.axe.run(page, options=AXE_OPTIONS)
            self._keep(page, f"{state}, {width} px", results.response["violations"])

    def _keep(self, page, state: str, violations: list) -> None:
        for violation in violations:
            nodes = "\n".join(
                f"      {' '.join(map(str, node['target']))}: {one_line(node['html'], 160)}\n"
                f"        {one_line(node.get('failureSummary', ''), 300)}"
                for node in violation["nodes"][:8]
            )
            more = len(violation["nodes"]) - 8
            self.found.append(
                f"{state} ({page.url})\n  {violation['id']} [{violation['impact']}]: "
                f"{violation['help']}\n{nodes}" + (f"\n      … and {more} more" if more > 0 else "")
            )

    def assert_clean(self) -> None:
        assert self.pages, "no page was checked"
        print(f"\naxe: {len(self.pages)} page states checked, {len(self.found)} violation(s)")
        assert not self.found, (
            f"{len(self.found)} WCAG 2.1 A/AA violation(s) on {len(self.pages)} page states:\n\n"
            + "\n\n".join(self.found)
        )


@pytest.fixture
def audit():
    return Audit()


def order_for(unit_name, profile_name, username, name, cpr, *, days=0):
    unit = Unit.objects.get(name=unit_name)
    profile = unit.area.profiles.get(name=profile_name)
    return place_order(
        by=User.objects.get(username=username),
        unit=unit,
        profile=profile,
        full_name=name,
        cpr=cpr,
        start_date=timezone.localdate() + datetime.timedelta(days=days),
        child_contact=None,
        submission_token=uuid.uuid4(),
        legal_bases=[r.legal_basis for r in profile.requirements.all()],
    )


@pytest.fixture
def new_hire(demo):
    """A new hire at Nordskolen from the HR report, waiting for the manager's order."""
    area = Area.objects.get(name="Børn og Unge")
    JobCode.objects.create(
        area=area, code="SEK", profile=PositionProfile.objects.get(area=area, name="Skolesekretær")
    )
    start = timezone.localdate() + datetime.timedelta(days=25)
    report = (
        "Ansættelsesnummer;Navn;CPR-nummer;Afdeling;Startdato;Stillingskode\n"
        f"A-77;Freja Nørgaard;120395-1234;Nordskolen;{start:%d.%m.%Y};SEK\n"
    ).encode()
    payroll = User.objects.get(username="loen")
    hire_import = start_file_import(data=report, filename="nyansatte.csv", by=payroll)
    apply_hire_import(hire_import=hire_import, by=payroll)


def new_page(browser, live_server, username=None):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    if username:
        page.goto(f"{live_server.url}/log-ind/")
        page.get_by_label("Brugernavn").fill(username)
        page.get_by_label("Adgangskode").fill("demo")
        page.get_by_role("button", name="Log ind").click()
        page.wait_for_url(lambda url: "/log-ind/" not in url)
    return page


def test_login_page_has_no_wcag_violations(browser, live_server, demo, audit):
    page = new_page(browser, live_server)
    page.goto(f"{live_server.url}/log-ind/")
    audit.check(page, "login page")
    page.get_by_label("Brugernavn").fill("leder.skole")
    page.get_by_label("Adgangskode").fill("forkert")
    page.get_by_role("button", name="Log ind").click()
    expect(page.locator(".alert-error, .errorlist").first).to_be_visible()
    audit.check(page, "login page after a wrong password")
    page.context.close()
    audit.assert_clean()


def test_manager_pages_have_no_wcag_violations(browser, live_server, new_hire, audit):
    other_unit = Order.objects.filter(unit__name="Plejecenter Solgården").first()
    page = new_page(browser, live_server, "leder.skole")
    base = live_server.url

    expect(page.locator("section[aria-labelledby=hire-prompts-title]")).to_be_visible()
    audit.check(page, "manager: order list with hire prompts and welcome banner")
    page.get_by_label("Søg").fill("Sofie")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    audit.check(page, "manager: order list after the search filter swap")
    page.get_by_label("Søg").fill("Ingen med det navn")
    expect(page.locator("#results tbody tr")).to_have_count(0)
    audit.check(page, "manager: order list, nothing matches")
    page.get_by_role("button", name="Vis ikke igen").click()
    expect(page.locator("#welcome-banner")).to_have_count(0)
    audit.check(page, "manager: order list after dismissing the welcome banner")

    page.get_by_role("link", name="Freja Nørgaard").first.click()
    expect(page.get_by_label("Fulde navn")).to_have_value("Freja Nørgaard")
    audit.check(page, "manager: order form for a new hire")

    page.goto(f"{base}/bestillinger/ny/")
    audit.check(page, "manager: empty order form")
    page.get_by_label("Stilling").select_option(label="Skolesekretær")
    expect(page.locator("#catalogue legend").first).to_be_visible()
    audit.check(page, "manager: order form after choosing the position")
    page.get_by_label("Ja").check()
    expect(page.locator("#catalogue .certificate-option")).not_to_have_count(0)
    audit.check(page, "manager: order form after the children question")
    page.get_by_role("button", name="Send bestilling").click()
    expect(page.locator(".alert-error")).to_be_visible()
    audit.check(page, "manager: order form with errors")

    page.goto(f"{base}/bestillinger/")
    page.get_by_role("link", name="Sofie Kristensen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sofie Kristensen")
    audit.check(page, "manager: order page")

    page.goto(f"{base}/velkommen/")
    audit.check(page, "manager: welcome pack")
    page.goto(f"{base}/statistik/")
    audit.check(page, "manager: statistics")

    page.goto(f"{base}/bestillinger/{other_unit.public_id}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Siden blev ikke fundet")
    audit.check(page, "manager: the portal's 404 page")
    page.context.close()
    audit.assert_clean()


def test_secretary_pages_have_no_wcag_violations(browser, live_server, demo, audit):
    page = new_page(browser, live_server, "sekretaer.skole")
    audit.check(page, "secretary: order list")
    page.get_by_label("Status").select_option(index=1)
    page.wait_for_load_state("networkidle")
    audit.check(page, "secretary: order list after the status filter swap")
    page.goto(f"{live_server.url}/bestillinger/ny/")
    audit.check(page, "secretary: order form with a choice of units")
    page.get_by_label("Enhed").select_option(label="Børnehuset Mælkebøtten")
    page.wait_for_load_state("networkidle")
    audit.check(page, "secretary: order form after choosing the unit")
    page.goto(f"{live_server.url}/bestillinger/")
    page.get_by_role("link", name="Ida Mortensen").click()
    audit.check(page, "secretary: order page")
    page.context.close()
    audit.assert_clean()


def stamped_sample(tmp_path, name: str) -> str:
    target = tmp_path / name
    target.write_bytes(as_from_the_police((SAMPLES / name).read_bytes()))
    return str(target)


def test_payroll_pages_have_no_wcag_violations(
    browser, live_server, new_hire, audit, tasks_in_process, tmp_path
):
    for hire in SAMPLE_HIRES:
        order_for(*hire)
    base = live_server.url
    page = new_page(browser, live_server, "loen")
    audit.check(page, "payroll: today")
    page.goto(f"{base}/bestillinger/")
    audit.check(page, "payroll: overview of all orders")

    page.goto(f"{base}/loen/")
    audit.check(page, "payroll: police batches before preparing")
    page.get_by_role("button", name="Klargør batches").click()
    expect(page.locator(".batch-card").first).to_be_visible()
    audit.check(page, "payroll: police batches prepared")
    page.locator(".batch-card a").first.click()
    expect(page.locator("#paste-text")).to_be_visible()
    audit.check(page, "payroll: batch page")
    page.get_by_role("button", name="Markér som bestilt").click()
    expect(page.locator(".messages")).to_be_visible()
    audit.check(page, "payroll: batch marked as ordered")
    payroll = User.objects.get(username="loen")
    for batch in PoliceBatch.objects.filter(state=PoliceBatch.State.PREPARED):
        batching.mark_batch_ordered(batch=batch, by=payroll)

    page.goto(f"{base}/modtagelse/")
    audit.check(page, "payroll: upload page")
    page.get_by_label("Hentet i kommunens Digital Post-postkasse").check()
    page.set_input_files("#id_files", [stamped_sample(tmp_path, n) for n in UPLOADED])
    page.get_by_role("button", name="Upload").click()
    # Each file is read in a sandboxed child process: give a busy machine time.
    expect(page.locator("#upload-results tbody tr progress")).to_have_count(0, timeout=60_000)
    expect(page.locator("#upload-results tbody tr")).to_have_count(len(UPLOADED))
    audit.check(page, "payroll: upload results")

    page.goto(f"{base}/modtagelse/koe/")
    audit.check(page, "payroll: received documents")
    page.locator("nav.tabs a").last.click()
    page.wait_for_load_state("load")
    audit.check(page, "payroll: received documents, one state's tab")
    for name in UPLOADED:
        document = Document.objects.get(original_name=name)
        page.goto(f"{base}/modtagelse/dokument/{document.pk}/")
        audit.check(page, f"payroll: review page of {name} ({document.state})")
        if page.get_by_role("button", name="Underkend").count():
            page.get_by_role("button", name="Underkend").click()
            audit.check(page, f"payroll: overruling {name} without a reason")
    # The server's own messages, when the browser lets an incomplete form through.
    page.goto(f"{base}/modtagelse/dokument/{Document.objects.get(original_name=UNKNOWN).pk}/")
    for form in page.locator("main form").all():
        form.evaluate("form => form.noValidate = true")
    page.get_by_role("button", name="Kassér").click()
    page.wait_for_load_state("load")
    audit.check(page, "payroll: discarding a document without a reason")

    page.goto(f"{base}/modtagelse/arkivering/")
    audit.check(page, "payroll: filing queue")
    page.goto(f"{base}/loen/nyansatte/")
    audit.check(page, "payroll: compliance list")
    page.goto(f"{base}/loen/nyansatte/import/")
    audit.check(page, "payroll: HR imports")
    report = tmp_path / "nyansatte.csv"
    report.write_text(
        "Ansættelsesnummer;Navn;CPR-nummer;Afdeling;Startdato;Stillingskode\n"
        "A-78;Karl Mø;010203-1234;Ingen afdeling;01.13.2026;XYZ\n"
        f"A-79;Lis Bæk;120395-1234;Nordskolen;{timezone.localdate():%d.%m.%Y};SEK\n",
        encoding="utf-8",
    )
    page.locator("input[type=file]").set_input_files(str(report))
    page.locator("form.card button[type=submit]").click()
    page.wait_for_load_state("load")
    audit.check(page, "payroll: HR import dry run with bad rows")
    page.goto(f"{base}/statistik/")
    audit.check(page, "payroll: statistics")
    page.locator("form.filters select").first.select_option(index=1)
    page.wait_for_load_state("networkidle")
    audit.check(page, "payroll: statistics after a filter swap")
    page.goto(f"{base}/modtagelse/afproevning/")
    audit.check(page, "payroll: the robot's trial")
    page.goto(f"{base}/adgangslog/")
    audit.check(page, "payroll: access log export")
    page.context.close()
    audit.assert_clean()


def test_administrator_pages_have_no_wcag_violations(browser, live_server, demo, audit):
    base = live_server.url
    page = new_page(browser, live_server, "admin")
    audit.check(page, "administrator: order list")
    page.goto(f"{base}/admin/")
    audit.check(page, "administrator: admin index")
    page.goto(f"{base}/admin/portal/unit/")
    audit.check(page, "administrator: a changelist")
    page.locator("#result_list tbody a").first.click()
    expect(page).to_have_url(re.compile(r"/change/$"))
    audit.check(page, "administrator: a change form")
    page.get_by_role("button", name="Gem", exact=True).click()
    page.wait_for_load_state("load")
    audit.check(page, "administrator: a changelist after saving")
    user = User.objects.get(username="leder.skole")
    page.goto(f"{base}/admin/portal/user/{user.pk}/change/")
    audit.check(page, "administrator: a user's change form")
    page.locator(".add-row a").first.click()
    audit.check(page, "administrator: a user's change form with a row added")
    page.goto(f"{base}/admin/orders/positionprofile/add/")
    page.locator("input[type=submit][name=_save]").click()
    page.wait_for_load_state("load")
    audit.check(page, "administrator: an add form with errors")
    page.goto(f"{base}/admin/robot/ruleset/")
    page.locator("#result_list tbody a").first.click()
    audit.check(page, "administrator: the evaluation rules")
    page.goto(f"{base}/organisation/import/")
    audit.check(page, "administrator: organisation import")
    page.goto(f"{base}/bestillinger/ny/")  # an administrator orders for no unit
    expect(page.get_by_role("heading", level=1)).to_have_text("Ingen adgang")
    audit.check(page, "administrator: the portal's 403 page")
    page.context.close()
    audit.assert_clean()

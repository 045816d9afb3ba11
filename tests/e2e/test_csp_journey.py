"""The pages still work under the Content-Security-Policy: nothing is refused, the
confirmation before dissolving a batch still appears, the certificate viewer still loads."""

import pytest
from playwright.sync_api import expect

from ..conftest import SAMPLES

pytestmark = pytest.mark.e2e


@pytest.fixture
def refused(page):
    """What the browser refused under the policy, as it reports it on the console."""
    messages = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and messages.append(message.text),
    )
    return messages


def test_payroll_pages_run_under_the_policy_and_dissolving_asks_first(
    page, live_server, demo, login, refused
):
    login(page, "loen")
    in_payrolls_menu = {"Journalisering", "Adgangslog", "Politibatches"}
    for link in (
        "Ny bestilling",
        "Modtagne attester",
        "Journalisering",
        "Velkomstpakke",
        "Adgangslog",
        "Bestillinger",
        "Politibatches",
    ):
        if link in in_payrolls_menu:
            page.locator("summary", has_text="Lønkontor").click()
        page.get_by_role("navigation").get_by_role("link", name=link).click()
        expect(page.locator("h1")).to_be_visible()

    page.get_by_role("button", name="Klargør batches").click()
    page.locator(".batch-card a").first.click()
    batch_url = page.url
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Opløs batch").click()
    expect(page.get_by_role("button", name="Opløs batch")).to_be_visible()
    assert page.url == batch_url

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Opløs batch").click()
    expect(page.get_by_role("button", name="Opløs batch")).to_have_count(0)

    assert refused == []


def test_the_certificate_viewer_loads_the_pdf_under_the_policy(
    page, live_server, demo, login, refused, tasks_in_process
):
    login(page, "loen")
    page.goto(f"{live_server.url}/modtagelse/")
    page.get_by_label("Hentet i kommunens Digital Post-postkasse").check()
    page.set_input_files("#id_files", str(SAMPLES / "ukendt_dokument.pdf"))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-results tbody tr")).to_contain_text("Skal vurderes")

    page.get_by_role("link", name="Modtagne attester").click()
    with page.expect_response(lambda r: r.url.endswith("/fil/")) as pdf:
        page.get_by_role("link", name="ukendt_dokument.pdf").click()
    assert pdf.value.status == 200
    assert pdf.value.headers["content-type"] == "application/pdf"

    assert refused == []

"""Payroll drags returned certificates onto the upload page instead of picking them."""

import base64

import pytest
from playwright.sync_api import expect

from robot.models import Document

from ..conftest import SAMPLES

pytestmark = pytest.mark.e2e

DROP = """([files]) => {
  const transfer = new DataTransfer();
  for (const [name, data] of files) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type: "application/pdf" }));
  }
  const zone = document.getElementById("drop-zone");
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(
      new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true })
    );
  }
}"""


def test_two_files_dropped_on_the_upload_page_are_both_received_and_read(
    page, live_server, demo, login, tasks_in_process
):
    names = ["boerneattest_ren.pdf", "ukendt_dokument.pdf"]
    files = [[name, base64.b64encode((SAMPLES / name).read_bytes()).decode()] for name in names]
    login(page, "loen")
    page.goto(f"{live_server.url}/modtagelse/")
    zone = page.locator("#drop-zone")
    expect(zone).to_be_visible()
    expect(zone).to_contain_text("træk filerne hertil")

    page.get_by_label("Hentet i kommunens Digital Post-postkasse").check()
    page.evaluate(DROP, [files])

    rows = page.locator("#upload-results tbody tr")
    for name in names:
        # The answered row links to the document; the progress bar is gone.
        expect(rows.filter(has=page.get_by_role("link", name=name))).to_have_count(1)
    expect(rows.locator("progress")).to_have_count(0)
    received = Document.objects.filter(original_name__in=names)
    assert sorted(received.values_list("original_name", flat=True)) == sorted(names)
    assert not received.filter(state=Document.State.RECEIVED).exists()
    assert page.url == f"{live_server.url}/modtagelse/"  # the browser did not open a file


def test_files_dropped_before_saying_where_they_came_from_are_not_received(
    page, live_server, demo, login, tasks_in_process
):
    files = [
        [
            "boerneattest_ren.pdf",
            base64.b64encode((SAMPLES / "boerneattest_ren.pdf").read_bytes()).decode(),
        ]
    ]
    login(page, "loen")
    page.goto(f"{live_server.url}/modtagelse/")

    page.evaluate(DROP, [files])

    expect(page.get_by_role("alert")).to_contain_text("Vælg, hvor filerne kommer fra.")
    expect(page.get_by_label("Hentet i kommunens Digital Post-postkasse")).to_be_focused()
    assert not Document.objects.exists()


def test_without_javascript_the_drop_zone_stays_hidden_and_the_picker_works(
    browser, live_server, demo, tasks_in_process
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/log-ind/")
    page.get_by_label("Brugernavn").fill("loen")
    page.get_by_label("Adgangskode").fill("demo")
    page.get_by_role("button", name="Log ind").click()
    page.goto(f"{live_server.url}/modtagelse/")

    expect(page.locator("#drop-zone")).to_be_hidden()
    page.get_by_label("Hentet i kommunens Digital Post-postkasse").check()
    page.set_input_files("#id_files", [str(SAMPLES / "ukendt_dokument.pdf")])
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("link", name="ukendt_dokument.pdf")).to_be_visible()
    context.close()

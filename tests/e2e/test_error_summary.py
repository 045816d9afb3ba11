"""A form sent with problems: the error summary at the top takes focus, so a screen
reader reads the problems first, and each of its links puts focus in the field
(static/js/error_summary.js), on a page load and after an htmx swap alike."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def log_in(page, base, username):
    page.goto(f"{base}/log-ind/")
    page.get_by_label("Brugernavn").fill(username)
    page.get_by_label("Adgangskode").fill("demo")
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(lambda url: "/log-ind/" not in url)


def test_an_empty_order_focuses_the_summary_and_its_links_focus_the_fields(page, live_server, demo):
    log_in(page, live_server.url, "leder.skole")
    page.goto(f"{live_server.url}/bestillinger/ny/")

    page.get_by_role("button", name="Send bestilling").click()

    box = page.locator("[data-error-summary]")
    expect(box).to_be_focused()
    expect(box.get_by_role("heading")).to_have_text("Der er et problem")
    expect(box).to_have_attribute("role", "alert")

    # With the keyboard: the first link is the next stop, Enter goes to its field.
    page.keyboard.press("Tab")
    expect(box.get_by_role("link", name="Fulde navn: Dette felt er påkrævet.")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Fulde navn", exact=True)).to_be_focused()

    # With the mouse, and the field's label in view, not only its input.
    box.get_by_role("link", name="CPR-nummer: Dette felt er påkrævet.").click()
    cpr = page.get_by_label("CPR-nummer", exact=True)
    expect(cpr).to_be_focused()
    expect(page.locator("label[for=id_cpr]")).to_be_in_viewport()
    page.keyboard.type("0101901234")
    expect(cpr).to_have_value("0101901234")


def test_a_summary_swapped_in_by_htmx_takes_focus(page, live_server, demo):
    log_in(page, live_server.url, "leder.skole")
    page.goto(f"{live_server.url}/statistik/")

    page.get_by_label("Fra måned").fill("2026-06")
    page.get_by_label("Til og med måned").fill("2026-01")

    box = page.locator("#figures [data-error-summary]")
    expect(box).to_contain_text("Perioden slutter, før den begynder.")
    expect(box).to_be_focused()

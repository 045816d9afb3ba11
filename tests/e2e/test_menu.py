"""The header's "Lønkontor" menu (a <details>) closes like any menu: on Escape, with
focus back on its button, and on a click or focus elsewhere (static/js/menu.js)."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def payroll_page(page, live_server, demo):
    page.goto(f"{live_server.url}/log-ind/")
    page.get_by_label("Brugernavn").fill("loen")
    page.get_by_label("Adgangskode").fill("demo")
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(lambda url: "/log-ind/" not in url)
    return page


def test_escape_closes_the_menu_and_returns_to_its_button(payroll_page):
    page = payroll_page
    menu = page.locator("details.nav-menu")
    button = menu.locator("summary", has_text="Lønkontor")

    button.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link").first).to_be_focused()

    page.keyboard.press("Escape")

    expect(menu).not_to_have_attribute("open", "")
    expect(button).to_be_focused()


def test_a_click_or_focus_elsewhere_closes_the_menu(payroll_page):
    page = payroll_page
    menu = page.locator("details.nav-menu")
    button = menu.locator("summary", has_text="Lønkontor")

    button.click()
    expect(menu.get_by_role("link").first).to_be_visible()
    # A click on the page's heading, which the open menu may cover on a narrow window.
    page.locator("main h1").dispatch_event("click")
    expect(menu.get_by_role("link").first).to_be_hidden()

    button.click()
    expect(menu).to_have_attribute("open", "")
    page.get_by_role("link", name="Statistik").focus()
    expect(menu).not_to_have_attribute("open", "")

    # A click inside the menu leaves it open.
    button.click()
    menu.locator("ul").click(position={"x": 2, "y": 2})
    expect(menu).to_have_attribute("open", "")

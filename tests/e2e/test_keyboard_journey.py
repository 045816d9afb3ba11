"""Keyboard only: a manager orders, payroll sends a police batch and confirms a review,
with Tab, Shift+Tab, Space, Enter, arrow keys and typing; never a mouse, never a click or
fill on an element. Focus is visible at every step and, after htmx changes part of the
page, sits where the change happened.

Interactions are what a person decides to do: follow a link, type a value, choose an
option, press a button. Tab presses only move between them and are counted apart."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders import batching
from orders.models import Order
from portal.models import User
from robot.intake import ingest_bytes
from robot.models import Document, Upload

from ..conftest import SAMPLES
from ..robot.conftest import as_from_the_police
from .test_accessibility import order_for

pytestmark = pytest.mark.e2e

MAX_TABS = 60
ORDER_MAX_INTERACTIONS = 10

FOCUSED = """() => {
  // Tabbing past the last element leaves the page for the browser's own controls.
  if (!document.hasFocus()) return {element: "the browser's controls", visible: true};
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  // Focus on a date field's calendar button, inside the browser's own part of the field,
  // which page scripts cannot inspect (portal.css rings it like every other control).
  if (el.type === "date" && !el.matches(":focus")) {
    return {element: "the date field's calendar button", visible: true};
  }
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  const shadow = style.boxShadow !== "none" && style.boxShadow !== "";
  const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim();
  return {
    element: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${text.slice(0, 50)}"`,
    visible: (outline || shadow) && el.getClientRects().length > 0,
  };
}"""


class Keyboard:
    """Presses keys on a page, counting interactions and Tab presses, and checks after each
    that the focused element shows it."""

    def __init__(self, page):
        self.page = page
        self.interactions = 0
        self.tabs = 0

    def focused(self) -> dict | None:
        return self.page.evaluate(FOCUSED)

    def assert_focus_visible(self, after: str) -> dict:
        focused = self.focused()
        assert focused is not None, f"after {after}: nothing has focus ({self.page.url})"
        assert focused["visible"], f"after {after}: focus on {focused['element']} is not visible"
        return focused

    def tab_to(self, target, *, backwards: bool = False) -> None:
        """Tab (or Shift+Tab) until `target` (a locator) has focus."""
        key = "Shift+Tab" if backwards else "Tab"
        is_focused = "el => el === document.activeElement"
        if target.evaluate(is_focused):
            self.assert_focus_visible("arriving")
            return
        for _ in range(MAX_TABS):
            self.page.keyboard.press(key)
            self.tabs += 1
            self.assert_focus_visible(key)
            if target.evaluate(is_focused):
                return
        raise AssertionError(f"{MAX_TABS} × {key} never reached {target}")

    def press(self, key: str) -> None:
        """One interaction: Enter, Space or an arrow key on the focused element."""
        self.interactions += 1
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        """One interaction: a value typed into the focused field."""
        self.interactions += 1
        self.page.keyboard.type(text)
        self.assert_focus_visible(f"typing {text!r}")

    def activate(self, target, key: str = "Enter") -> None:
        self.tab_to(target)
        self.press(key)


DATE_ORDER_PROBE = """() => {
  const probe = document.createElement("input");
  probe.type = "date";
  document.body.append(probe);
  probe.focus();
  return true;
}"""


def typed_date(page, date: datetime.date) -> str:
    """The digits to type for `date` in a date field: the browser lays the field out in
    its own locale's order (the machine's, whatever the page's language). Found on a
    throwaway field first, so the journey itself types the date once."""
    page.evaluate(DATE_ORDER_PROBE)
    page.keyboard.type("01022003")
    value = page.evaluate(
        "() => { const v = document.activeElement.value; "
        "document.activeElement.remove(); return v; }"
    )
    layout = {"2003-02-01": "%d%m%Y", "2003-01-02": "%m%d%Y"}[value]
    return date.strftime(layout)


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/log-ind/")
    keys = Keyboard(page)
    keys.tab_to(page.get_by_label("Brugernavn"))
    keys.type(username)
    keys.tab_to(page.get_by_label("Adgangskode"))
    keys.type("demo")
    keys.press("Enter")
    page.wait_for_url(lambda url: "/log-ind/" not in url)


def focus_is_on(page, locator) -> None:
    expect(locator).to_be_focused()
    assert Keyboard(page).assert_focus_visible("the swap")


@pytest.fixture
def counts():
    found = {}
    yield found
    print("\nKeyboard-only interactions (Tab presses apart):")
    for journey, (interactions, tabs) in found.items():
        print(f"  {journey}: {interactions} interactions, {tabs} Tab presses")


def test_a_manager_orders_with_the_keyboard_only(browser, live_server, demo, counts):
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK").new_page()
    log_in(page, live_server, "leder.skole")
    start = timezone.localdate() + datetime.timedelta(days=30)
    start_digits = typed_date(page, start)
    page.reload()

    # Dismissing the welcome banner removes the part of the page that had focus: focus
    # goes to the page's heading, not back to the top of the page.
    keys = Keyboard(page)
    keys.activate(page.get_by_role("button", name="Vis ikke igen"))
    expect(page.locator("#welcome-banner")).to_have_count(0)
    focus_is_on(page, page.get_by_role("heading", level=1))
    # From there the search field is a few Tabs on; a search keeps focus in the field.
    keys.tab_to(page.get_by_label("Søg"))
    keys.type("Sofie")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    focus_is_on(page, page.get_by_label("Søg"))

    order = Keyboard(page)
    order.tab_to(page.get_by_role("link", name="Ny bestilling").first, backwards=True)
    order.press("Enter")  # 1
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bestil attester")
    order.tab_to(page.get_by_label("Fulde navn"))
    order.type("Karen Dinesen")  # 2
    order.tab_to(page.get_by_label("CPR-nummer"))
    order.type("170485-1236")  # 3
    order.tab_to(page.get_by_label("Startdato"))
    order.type(start_digits)  # 4
    expect(page.get_by_label("Startdato")).to_have_value(start.isoformat())

    # Choosing the position redraws the certificate choices; focus stays on the position.
    position = page.get_by_label("Stilling")
    order.tab_to(position)
    order.type("Skolesek")  # 5: type-ahead in the closed list
    expect(position).to_have_value(re.compile(r"\d+"))
    expect(page.locator(".htmx-request")).to_have_count(0)  # the choices have come back
    yes = page.locator("#catalogue").get_by_label("Ja")
    expect(yes).to_be_visible()
    focus_is_on(page, position)

    # The children question redraws them again; focus stays on the answer.
    order.tab_to(yes)
    order.press("Space")  # 6
    expect(page.locator("#catalogue .certificate-option", has_text="Børneattest")).to_be_visible()
    focus_is_on(page, page.locator("#catalogue").get_by_label("Ja"))

    order.activate(page.get_by_role("button", name="Send bestilling"))  # 7
    expect(page.get_by_role("heading", level=1)).to_have_text("Karen Dinesen")
    placed = Order.objects.get(full_name="Karen Dinesen")
    assert placed.start_date == start
    assert sorted(placed.lines.values_list("kind__code", flat=True)) == ["child"]
    assert "170485" not in page.url

    counts["manager's order"] = (order.interactions, order.tabs)
    assert order.interactions <= ORDER_MAX_INTERACTIONS
    page.context.close()


def test_payroll_sends_a_police_batch_and_confirms_a_review_with_the_keyboard_only(
    browser, live_server, demo, tasks_in_process, counts
):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="da-DK",
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    log_in(page, live_server, "loen")

    batch = Keyboard(page)
    batch.activate(page.locator("summary", has_text="Lønkontor"))  # 1: payroll's tools menu
    batch.activate(page.get_by_role("link", name="Politibatches"))  # 2
    batch.activate(page.get_by_role("button", name="Klargør batches"))  # 3
    batch.activate(page.get_by_role("link", name="Åbn batch").first)  # 4
    batch.activate(page.get_by_role("button", name="Kopiér personer"))  # 5
    expect(page.locator("#paste-status")).to_have_text("Kopieret.")
    batch.activate(page.get_by_role("button", name="Kopiér", exact=True))  # 6
    batch.activate(page.get_by_role("button", name="Markér som bestilt"))  # 7
    expect(page.locator(".messages")).to_contain_text("markeret som bestilt")
    counts["police batch"] = (batch.interactions, batch.tabs)

    # Everyone else's lines ordered too; Sofie Kristensen's child certificate comes back.
    payroll = User.objects.get(username="loen")
    for prepared in batching.prepare_batches(by=payroll):
        batching.mark_batch_ordered(batch=prepared, by=payroll)
    order_for("Nordskolen", "Lærer", "leder.skole", "Åse Marie Østergård", "0101904321")
    for prepared in batching.prepare_batches(by=payroll):
        batching.mark_batch_ordered(batch=prepared, by=payroll)
    returned = as_from_the_police((SAMPLES / "boerneattest_ren.pdf").read_bytes())
    statement = Upload.objects.create(by=payroll, origin=Upload.Origin.DIGITAL_POST)
    ingest_bytes(
        returned, filename="boerneattest_ase.pdf", source=Document.Source.UPLOAD, upload=statement
    )
    document = Document.objects.get(original_name="boerneattest_ase.pdf")
    assert document.state == Document.State.PROPOSED

    review = Keyboard(page)
    review.activate(page.get_by_role("link", name="Modtagne attester"))  # 1
    review.activate(page.get_by_role("link", name="boerneattest_ase.pdf"))  # 2
    confirm = page.get_by_role("button", name="Bekræft: ren")
    focus_is_on(page, confirm)  # the page opens with focus on the decision
    review.press("Enter")  # 3
    expect(page.locator(".messages")).to_be_visible()
    document.refresh_from_db()
    assert document.state == Document.State.DONE
    counts["review"] = (review.interactions, review.tabs)
    context.close()

"""On a phone (390 px) payroll's header keeps to three rows: the brand with the user's
links, and the menu in two; a heading wraps between words and never runs off the page."""

import pytest

pytestmark = pytest.mark.e2e

ROWS = """() => {
  const tops = new Set();
  for (const el of document.querySelectorAll(".main-nav > ul > li")) {
    tops.add(Math.round(el.getBoundingClientRect().top));
  }
  return tops.size;
}"""
# Each word of the heading on one line: a word split over two lines has two boxes.
SPLIT_WORDS = """(el) => {
  const text = el.firstChild, words = [], range = document.createRange();
  let start = 0;
  for (const word of text.textContent.split(" ")) {
    range.setStart(text, start);
    range.setEnd(text, start + word.length);
    if (range.getClientRects().length > 1) words.push(word);
    start += word.length + 1;
  }
  return words;
}"""


def test_payrolls_header_on_a_phone_keeps_to_three_rows(browser, live_server, demo):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/log-ind/")
    page.get_by_label("Brugernavn").fill("loen")
    page.get_by_label("Adgangskode").fill("demo")
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(lambda url: "/log-ind/" not in url)
    page.goto(f"{live_server.url}/statistik/")

    assert page.evaluate(ROWS) <= 2
    brand = page.locator(".brand").bounding_box()
    logout = page.get_by_role("button", name="Log ud").bounding_box()
    assert abs((brand["y"] + brand["height"] / 2) - (logout["y"] + logout["height"] / 2)) < 12
    header = page.locator(".site-header").bounding_box()
    assert header["height"] < 170

    heading = page.locator("h1")
    assert heading.evaluate(SPLIT_WORDS) == []
    assert heading.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    context.close()

"""What a new user saw before anything else: the header, headings, forms and lists laid
out so they can be read and used at 1280 px and on a 390 px phone."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def box(locator):
    return locator.bounding_box()


def test_payrolls_header_fits_one_row_and_its_tools_open_without_javascript(
    browser, live_server, demo, login
):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    login(page, "loen")

    items = page.locator(".main-nav > ul > li")
    tops = {round(box(items.nth(i))["y"]) for i in range(items.count())}
    assert len(tops) == 1, f"the menu wraps onto {len(tops)} rows"
    user = box(page.locator(".user-menu"))
    assert abs(user["y"] - box(items.first)["y"]) < 20, "the user's name sits on its own row"

    page.locator("summary", has_text="Lønkontor").click()
    page.get_by_role("link", name="Politibatches").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Politibatches")
    header = box(page.locator(".site-header"))
    heading = box(page.get_by_role("heading", level=1))
    assert heading["y"] - (header["y"] + header["height"]) >= 16, "the heading touches the header"
    context.close()


def test_the_order_forms_fields_line_up(browser, live_server, demo, login):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, "leder.skole")
    page.goto(f"{live_server.url}/bestillinger/ny/")
    tops = [
        round(box(page.locator(f"#id_{name}"))["y"]) for name in ("full_name", "cpr", "start_date")
    ]
    assert max(tops) - min(tops) <= 2, f"inputs at {tops}: the CPR box sits lower"


def test_on_a_phone_the_first_order_is_above_the_fold(browser, live_server, demo, login):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    login(page, "leder.skole")  # a new orderer: the welcome banner is shown
    expect(page.locator("#welcome-banner")).to_be_visible()

    first_order = box(page.locator("table.list tbody tr").first)
    assert first_order["y"] + 40 < 844, f"the first order starts at {first_order['y']} px"
    button = box(page.locator(".page-head").get_by_role("link", name="Ny bestilling"))
    label = box(page.locator("label[for=id_q]"))
    assert label["y"] - (button["y"] + button["height"]) >= 8, "Ny bestilling touches the label"


def test_captions_sit_above_their_tables(browser, live_server, demo, login):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, "leder.skole")
    caption = box(page.locator("table.list caption").first)
    head = box(page.locator("table.list thead").first)
    assert caption["y"] < head["y"]


def test_the_review_page_gives_the_certificate_most_of_the_screen(
    browser, live_server, demo, login
):
    from robot.models import Document

    from ..robot.conftest import sample
    from ..robot.test_pipeline import receive

    receive("scan.pdf", sample("ukendt_dokument.pdf"))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, "loen")
    page.goto(f"{live_server.url}/modtagelse/dokument/{Document.objects.get().pk}/")
    viewer = box(page.locator(".viewer object"))
    assert viewer["width"] >= 650, f"the PDF is {viewer['width']} px wide"
    assert viewer["height"] >= 0.75 * 900, f"the PDF is {viewer['height']} px high"


def test_a_forwarded_messages_page_keeps_its_text_inside_the_cards(
    browser, live_server, demo, login
):
    from robot.models import Document

    from ..robot.conftest import sample
    from ..robot.test_pipeline import receive

    receive("attest.pdf", sample("boerneattest_ren.pdf"))
    message = receive("besked.eml", sample("boerneattest_ren.eml"))
    assert Document.objects.get(pk=message.pk).is_message
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, "loen")
    page.goto(f"{live_server.url}/modtagelse/dokument/{message.pk}/")

    expect(page.locator("object")).to_have_count(0)  # no blank preview
    expect(page.get_by_text("Modtaget før")).to_be_visible()
    spilling = page.evaluate(
        """() => [...document.querySelectorAll('.card')]
              .filter(card => card.scrollWidth > card.clientWidth + 1).length"""
    )
    assert spilling == 0

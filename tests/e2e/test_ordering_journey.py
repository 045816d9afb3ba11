import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import Order

pytestmark = pytest.mark.e2e


def test_a_school_manager_orders_for_a_new_teacher_and_another_unit_cannot_see_it(
    page, browser, live_server, demo, login
):
    login(page, "leder.skole")
    page.get_by_role("link", name="Ny bestilling").first.click()

    page.get_by_label("Fulde navn").fill("Emma Lærke Jensen")
    page.get_by_label("CPR-nummer").fill("050698-2143")
    start = timezone.localdate() + datetime.timedelta(days=20)
    page.get_by_label("Startdato").fill(start.isoformat())
    page.get_by_label("Stilling").select_option(label="Lærer")

    # The certificate choices follow the position without a page reload.
    choices = page.locator("#catalogue .certificate-option")
    expect(choices).to_have_count(2)
    expect(choices.nth(0)).to_contain_text("Børneattest")
    expect(choices.nth(1)).to_contain_text("Offentlig straffeattest")
    expect(choices.nth(1)).to_contain_text("Ansættelse i folkeskolen")
    expect(page.locator("#catalogue")).not_to_contain_text("Social- og sundhed")

    page.get_by_role("button", name="Send bestilling").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Emma Lærke Jensen")
    expect(page.locator(".line")).to_have_count(2)
    expect(page.locator("main")).to_contain_text("050698-xxxx")
    assert "0506982143" not in page.url and "050698" not in page.url
    order_url = page.url

    page.get_by_role("link", name="Bestillinger").first.click()
    expect(page.locator("#results")).to_contain_text("Emma Lærke Jensen")

    order = Order.objects.get(full_name="Emma Lærke Jensen")
    assert sorted(order.lines.values_list("kind__code", flat=True)) == ["child", "criminal_public"]

    other_context = browser.new_context()
    other = other_context.new_page()
    login(other, "leder.aeldre")
    expect(other.locator("main")).not_to_contain_text("Emma Lærke Jensen")
    response = other.goto(order_url)
    assert response.status == 404
    expect(other.locator("h1")).to_have_text("Siden blev ikke fundet")
    other_context.close()


def test_search_filters_the_list_in_place(page, live_server, demo, login):
    login(page, "leder.skole")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(3)

    page.get_by_label("Søg på navn").fill("mikkel")

    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Mikkel Andersen")
    assert "q=mikkel" in page.url
    page.wait_for_load_state("networkidle")

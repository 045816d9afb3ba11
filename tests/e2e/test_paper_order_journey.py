import re

import pytest
from playwright.sync_api import expect

from orders import batching
from orders.models import Order

pytestmark = pytest.mark.e2e


def test_payroll_orders_on_paper_with_a_reference_the_manager_never_sees(
    browser, live_server, demo, login
):
    peter = Order.objects.get(full_name="Peter Nielsen")
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    login(page, "loen")
    page.locator("summary", has_text="Lønkontor").click()
    page.get_by_role("link", name="Politibatches").click()

    page.get_by_role("button", name=re.compile("Bestil på papir.*Peter Nielsen")).first.click()

    line = peter.lines.filter(batch__isnull=False).get()
    requester = batching.requester_text(line.batch)
    expect(page.locator("h1")).to_contain_text("Bestilling med samtykke på papir")
    expect(page.locator("#paste-text")).to_contain_text("090282-3579 Peter Nielsen")
    expect(page.locator("#requester-text")).to_have_text(requester)
    page.locator("button[data-copy='#requester-text']").click()
    expect(page.locator("#requester-status")).to_have_text("Kopieret.")
    assert page.evaluate("navigator.clipboard.readText()") == requester

    page.get_by_role("button", name="Markér som bestilt").click()
    expect(page.locator(".messages")).to_contain_text(line.batch.reference)
    line.refresh_from_db()
    assert line.status == "ordered"
    context.close()

    manager = browser.new_context().new_page()
    login(manager, "leder.aeldre")
    manager.get_by_role("link", name="Peter Nielsen").click()
    expect(manager.locator(".line").first).to_contain_text("Bestilt – afventer samtykke")
    assert line.batch.secret not in manager.content()
    manager.context.close()

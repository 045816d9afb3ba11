import pytest
from playwright.sync_api import expect

from orders.models import Order, OrderLine

pytestmark = pytest.mark.e2e


def test_payroll_copies_a_batch_marks_it_ordered_and_the_manager_sees_it(
    browser, live_server, demo, login
):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    login(page, "loen")
    page.locator("summary", has_text="Lønkontor").click()  # payroll's tools menu
    page.get_by_role("link", name="Politibatches").click()
    expect(page.locator("#waiting-title")).to_be_visible()

    page.get_by_role("button", name="Klargør batches").click()
    sofie = Order.objects.get(full_name="Sofie Kristensen")
    child_line = sofie.lines.get(kind__code="child")
    reference = child_line.batch.reference
    page.get_by_role("link", name=reference).first.click()

    paste = page.locator("#paste-text")
    expect(paste).to_contain_text("120396-1234 Sofie Kristensen")
    page.get_by_role("button", name="Kopiér personer").click()
    expect(page.locator("#paste-status")).to_have_text("Kopieret.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "120396-1234 Sofie Kristensen" in copied.splitlines()
    expect(page.locator("#requester-text")).to_contain_text(reference)

    page.get_by_role("button", name="Markér som bestilt").click()
    expect(page.locator(".messages")).to_contain_text(reference)
    assert OrderLine.objects.get(pk=child_line.pk).status == "ordered"
    context.close()

    manager = browser.new_context().new_page()
    login(manager, "leder.skole")
    manager.get_by_role("link", name="Sofie Kristensen").click()
    line = manager.locator(".line", has_text="Børneattest")
    expect(line).to_contain_text("Bestilt – afventer samtykke")
    expect(line.get_by_role("button", name="Annuller")).to_have_count(0)
    expect(manager.locator(".timeline")).to_contain_text("Bestilt hos politiet")
    # The batch reference is payroll's: the manager's timeline leaves it out.
    expect(manager.locator(".timeline")).not_to_contain_text(reference)
    manager.context.close()

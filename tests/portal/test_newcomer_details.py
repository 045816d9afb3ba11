"""Small things a new user tripped over: the welcome banner on the welcome pack itself,
the demo ribbon outside every landmark, the order page's wording once an order is done,
and a table row of the welcome pack split over two PDF pages."""

import io
import re

from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from orders.answers import record_certificate_result
from orders.batching import mark_batch_ordered, prepare_batches
from orders.models import OrderLine
from orders.services import ROBOT
from portal.models import WelcomeSection

from ..factories import order_for


def test_the_welcome_banner_is_not_shown_on_the_welcome_pack_itself(client, school_manager):
    client.force_login(school_manager)

    assert 'id="welcome-banner"' in client.get(reverse("orders:list")).content.decode()
    assert 'id="welcome-banner"' not in client.get(reverse("welcome")).content.decode()


def test_the_demo_ribbon_is_inside_the_banner_landmark(client, school_manager, settings):
    settings.DEMO_MODE = True
    client.force_login(school_manager)

    html = client.get(reverse("orders:list")).content.decode()

    header = re.search(r"<header class=\"site-header\">(.*?)</header>", html, re.S).group(1)
    assert 'class="demo-ribbon"' in header
    assert html.count('class="demo-ribbon"') == 1


def test_a_finished_order_says_it_is_finished_not_that_payroll_is_ordering(
    client, school, teacher, school_manager, payroll
):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    for batch in prepare_batches(by=payroll):
        mark_batch_ordered(batch=batch, by=payroll)
    client.force_login(school_manager)

    ordering = client.get(reverse("orders:detail", args=[order.public_id])).content.decode()
    assert "Lønkontoret er ved at bestille attesterne hos politiet" in ordering

    for line in order.lines.all():
        record_certificate_result(line=line, result="clean", by=ROBOT)
    assert not OrderLine.objects.filter(order=order, status="ordered").exists()
    finished = client.get(reverse("orders:detail", args=[order.public_id])).content.decode()
    assert "bestillingen er afsluttet" in finished
    assert "er ved at bestille" not in finished

    client.force_login(payroll)
    page = client.get(reverse("orders:detail", args=[order.public_id])).content.decode()
    # Payroll may still correct the record, but the CPR number is fixed by now.
    assert "Ret navn eller startdato" in page and "Ret navn, startdato eller CPR" not in page


def test_no_row_of_the_welcome_packs_status_table_is_split_over_two_pages(client, school_manager):
    """The table lands at another height of the page with each length of the text before
    it; at none of them may a status and what it means end up on different pages."""
    from orders.models import OrderLine as Line

    client.force_login(school_manager)
    section = WelcomeSection.objects.filter(topic="statuses", area=None).get()
    body = section.body
    with translation.override("da"):
        rows = [(str(label), str(Line.STATUS_HELP[value])) for value, label in Line.Status.choices]
    for filler in range(16, 32):
        section.body = body + "\n\n" + "\n\n".join(["Et afsnit, der fylder en linje."] * filler)
        section.save()
        response = client.get(reverse("welcome_pdf"))
        pages = [
            " ".join(page.extract_text().split())
            for page in PdfReader(io.BytesIO(response.content)).pages
        ]
        for label, help_text in rows:
            row = f"{label} {' '.join(help_text.split())}"
            assert any(row in text for text in pages), (filler, label)

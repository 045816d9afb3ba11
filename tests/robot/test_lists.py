"""Payroll's lists page and sort with the choice in the URL: the document queue (with a
search that refuses CPR numbers), the police batches and the filing page."""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench.seed import seed_history
from orders.models import PoliceBatch
from robot.models import Document, FilingJob

from ..factories import order_for

QUEUE = reverse("robot:queue")


def waiting_document(name="scan.pdf", *, line=None, minutes_ago=0, state="needs_review"):
    return Document.objects.create(
        sha256=uuid.uuid4().hex * 2,
        original_name=name,
        stored_name=f"{uuid.uuid4().hex}.pdf",
        size=100,
        source=Document.Source.UPLOAD,
        received_at=timezone.now() - timezone.timedelta(minutes=minutes_ago),
        state=state,
        line=line,
        person=line.person if line else None,
    )


def rows(html: str) -> list[str]:
    return re.findall(r'/modtagelse/dokument/\d+/">([^<]+)</a>', html)


@pytest.fixture
def named_documents(school, school_manager, teacher):
    sofie = order_for(unit=school, profile=teacher, by=school_manager, name="Sofie Holm")
    jens = order_for(unit=school, profile=teacher, by=school_manager, name="Jens Berg")
    return (
        waiting_document("sofie.pdf", line=sofie.lines.first(), minutes_ago=30),
        waiting_document("jens.pdf", line=jens.lines.first(), minutes_ago=20),
        waiting_document("scan.pdf", minutes_ago=10),
    )


def test_payroll_finds_a_document_by_the_persons_name(client, payroll, named_documents):
    client.force_login(payroll)
    assert rows(client.get(QUEUE, {"q": "sofie"}).content.decode()) == ["sofie.pdf"]
    assert rows(client.get(QUEUE, {"q": "scan"}).content.decode()) == ["scan.pdf"]


def test_payroll_finds_a_document_by_its_filing_reference(client, payroll, named_documents):
    jens = named_documents[1]
    FilingJob.objects.create(document=jens, line=jens.line, reference="AP-00012345")
    client.force_login(payroll)
    assert rows(client.get(QUEUE, {"q": "ap-00012345"}).content.decode()) == ["jens.pdf"]


def test_a_cpr_number_in_the_document_search_is_refused_and_kept_out_of_the_url(
    client, payroll, named_documents
):
    client.force_login(payroll)
    response = client.get(QUEUE, {"q": "120396-1234"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert rows(html) == []
    assert "CPR" in html
    assert not re.search(r"\d{6}", response["HX-Push-Url"])


def test_the_queue_sorts_and_pages(client, payroll, named_documents):
    for i in range(50):
        waiting_document(f"ekstra-{i:02d}.pdf", minutes_ago=100 + i)
    client.force_login(payroll)

    newest = rows(client.get(QUEUE, {"sort": "newest"}).content.decode())
    second = client.get(QUEUE, {"sort": "newest", "page": 2}).content.decode()

    assert newest[:3] == ["scan.pdf", "jens.pdf", "sofie.pdf"]
    assert rows(second) == ["ekstra-47.pdf", "ekstra-48.pdf", "ekstra-49.pdf"]
    assert rows(client.get(QUEUE).content.decode())[0] == "ekstra-49.pdf"  # oldest first
    assert "sort=newest&amp;page=2" in client.get(QUEUE, {"sort": "newest"}).content.decode()


def test_the_queue_costs_the_same_queries_for_one_document_or_many(
    client, payroll, named_documents, django_assert_max_num_queries
):
    client.force_login(payroll)
    client.get(QUEUE, {"q": "pdf"})
    with CaptureQueriesContext(connection) as few:
        client.get(QUEUE, {"q": "pdf"})
    for i in range(60):
        waiting_document(f"ekstra-{i:02d}.pdf")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(QUEUE, {"q": "pdf", "page": 2})


@pytest.fixture
def history(db):
    seed_history(orders=400, years=2, units=20)


def test_payroll_pages_through_ordered_batches_in_a_fixed_number_of_queries(
    client, payroll, history, django_assert_max_num_queries
):
    client.force_login(payroll)
    url = reverse("payroll:batches")
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    with django_assert_max_num_queries(len(first.captured_queries)):
        second = client.get(url, {"sort": "oldest", "page": 2}).content.decode()

    oldest = PoliceBatch.objects.filter(state="ordered").order_by("ordered_at", "id")
    assert oldest[25].reference in second and oldest[0].reference not in second
    assert "sort=oldest&amp;page=3" in second


def test_the_filing_page_lists_one_state_a_page_at_a_time(
    client, payroll, history, django_assert_max_num_queries
):
    client.force_login(payroll)
    url = reverse("robot:filing")
    client.get(url, {"state": "filed"})
    with CaptureQueriesContext(connection) as first:
        page_one = client.get(url, {"state": "filed"}).content.decode()
    with django_assert_max_num_queries(len(first.captured_queries)):
        page_two = client.get(url, {"state": "filed", "sort": "oldest", "page": 2}).content.decode()

    filed = FilingJob.objects.filter(state="filed")
    assert filed.order_by("-created_at", "-id")[0].reference in page_one
    assert filed.order_by("created_at", "id")[50].reference in page_two
    assert 'aria-current="page">Journaliseret' in page_two

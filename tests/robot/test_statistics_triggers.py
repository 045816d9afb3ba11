"""The triggers that mark the statistics' summary stale: the database holds exactly what
robot/statistics/triggers.py declares, and they watch every column the summariser reads.

Run on PostgreSQL and on SQLite: on SQLite a migration that rebuilds a watched table drops
its triggers, which only the first test notices."""

import re

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import OrderEvent
from robot.intake import ingest_bytes
from robot.models import Document, FilingJob, StatisticsStale
from robot.statistics import summary
from robot.statistics.triggers import (
    DELETE,
    INSERT,
    UPDATE,
    WATCHES,
    declared_triggers,
    installed_functions,
    installed_triggers,
    postgresql,
    sqlite,
)

from ..factories import order_for

# Read only through its lines, which are inserted after it and deleted before it.
NEEDS_NO_INSERT_OR_DELETE = {"orders_order"}
# `"table"."column"`, or `U0."column"` for a table aliased in a subquery.
COLUMN = re.compile(r'(?:"(\w+)"|\b([A-Z]\d+))\."(\w+)"')
ALIAS = re.compile(r'"(\w+)" (?:AS )?"?([A-Z]\d+)\b')


def _models_by_table():
    return {model._meta.db_table: model for model in apps.get_models()}


def _generated() -> dict[str, list[str]]:
    generate = {"postgresql": postgresql, "sqlite": sqlite}[connection.vendor]
    return {watch.table + watch.suffix: generate(watch, watch.columns) for watch in WATCHES}


@pytest.mark.django_db
def test_the_database_has_exactly_the_declared_triggers():
    declared = declared_triggers()
    assert installed_triggers(connection) == declared
    if connection.vendor == "postgresql":  # one function per trigger, none left over
        assert set(installed_functions(connection)) == {name for _table, name in declared}


@pytest.mark.django_db
def test_each_trigger_in_the_database_is_the_one_the_declaration_generates():
    """A declaration changed without a migration that recreates the triggers fails here."""
    generated = [sql for statements in _generated().values() for sql in statements]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT pg_get_triggerdef(t.oid), p.prosrc FROM pg_trigger t"
                " JOIN pg_proc p ON p.oid = t.tgfoid"
                " WHERE NOT t.tgisinternal AND t.tgname LIKE 'robot_statistics_%'"
            )
            installed = {(_canonical(trigger), body) for trigger, body in cursor.fetchall()}
            expected = set()
            for function, trigger in zip(generated[::2], generated[1::2], strict=True):
                _head, body, _tail = function.split("$$")
                expected.add((_canonical(trigger), body))
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger'"
                " AND name LIKE 'robot_statistics_%'"
            )
            installed = {sql for (sql,) in cursor.fetchall()}
            expected = set(generated)
    assert installed == expected


def _canonical(trigger: str) -> str:
    """PostgreSQL gives a trigger back with its own brackets, casts and schema, in lower
    case: compare the words."""
    return " ".join(re.sub(r"public\.|::text|[()]", " ", trigger.lower()).split())


def test_every_watched_column_exists():
    tables = _models_by_table()
    for watch in WATCHES:
        columns = {field.column for field in tables[watch.table]._meta.concrete_fields}
        assert set(watch.columns) <= columns, watch.table
        assert {mark.column for mark in watch.marks} <= columns, watch.table


@pytest.mark.django_db
def test_every_column_the_summariser_reads_is_watched(care_home, care_helper, care_manager):
    """Runs the summariser and reads its SQL: a column it reads that no trigger watches
    would leave the summary wrong after a change to that column, silently."""
    order = order_for(unit=care_home, profile=care_helper, by=care_manager)
    document, _ = ingest_bytes(b"%PDF-1.4 a", filename="a.pdf", source="upload", process=False)
    Document.objects.filter(pk=document.pk).update(line=order.lines.get(), outcome="clean")
    summary.mark_all_stale()

    with CaptureQueriesContext(connection) as captured:
        assert summary.refresh() > 0

    tables = _models_by_table()
    read: dict[str, set[str]] = {}
    for query in captured:
        aliases = {alias: table for table, alias in ALIAS.findall(query["sql"])}
        for table, alias, column in COLUMN.findall(query["sql"]):
            table = table or aliases[alias]
            if not table.startswith("robot_statistics"):
                read.setdefault(table, set()).add(column)
    assert {"orders_orderline", "orders_orderevent", "robot_document"} <= set(read)

    watched: dict[str, set[str]] = {}
    events: dict[str, set[str]] = {}
    for watch in WATCHES:
        watched.setdefault(watch.table, set()).update(watch.columns)
        events.setdefault(watch.table, set()).update(watch.events)
    for table, columns in sorted(read.items()):
        assert table in watched, f"the summariser reads {table}, which no trigger watches"
        unwatched = columns - watched[table] - {tables[table]._meta.pk.column}
        assert not unwatched, (
            f"the summariser reads {table}.{', '.join(sorted(unwatched))}, which no trigger "
            "watches: add it to WATCHES in robot/statistics/triggers.py, with a migration "
            "that calls recreate_statistics_triggers"
        )
        needed = {UPDATE} if table in NEEDS_NO_INSERT_OR_DELETE else {INSERT, UPDATE, DELETE}
        assert needed <= events[table], table


def _stale_lines() -> set[int]:
    return set(StatisticsStale.objects.exclude(line_id=None).values_list("line_id", flat=True))


@pytest.mark.django_db
def test_a_filing_jobs_retry_bookkeeping_leaves_the_summary_alone(
    care_home, care_helper, care_manager
):
    line = order_for(unit=care_home, profile=care_helper, by=care_manager).lines.get()
    document, _ = ingest_bytes(b"%PDF-1.4 b", filename="b.pdf", source="upload", process=False)
    job = FilingJob.objects.create(document=document, line=line, reference="AP-9")
    summary.refresh()

    FilingJob.objects.filter(pk=job.pk).update(last_error="timeout", uncertain=True)
    assert _stale_lines() == set()

    FilingJob.objects.filter(pk=job.pk).update(state=FilingJob.State.FAILED, attempts=2)
    assert _stale_lines() == {line.pk}


@pytest.mark.django_db
def test_timeline_events_changed_or_deleted_in_place_mark_their_line(
    care_home, care_helper, care_manager
):
    """As when the person who placed the order is deleted (the event loses its actor)."""
    line = order_for(unit=care_home, profile=care_helper, by=care_manager).lines.get()
    summary.refresh()

    OrderEvent.objects.filter(line=line).update(actor=None)
    assert _stale_lines() == {line.pk}
    summary.refresh()

    OrderEvent.objects.filter(line=line, action=OrderEvent.Action.PLACED).delete()
    assert _stale_lines() == {line.pk}


@pytest.mark.django_db
def test_a_deleted_document_marks_its_line(care_home, care_helper, care_manager):
    """Its arrival no longer ends the police's time on the line."""
    line = order_for(unit=care_home, profile=care_helper, by=care_manager).lines.get()
    document, _ = ingest_bytes(b"%PDF-1.4 c", filename="c.pdf", source="upload", process=False)
    Document.objects.filter(pk=document.pk).update(line=line)
    summary.refresh()

    Document.objects.filter(pk=document.pk).delete()

    assert _stale_lines() == {line.pk}

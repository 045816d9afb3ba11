"""The database triggers that mark the statistics' summary stale, declared once.

Every write that changes what the summariser (summary.py) reads marks the order line or
document concerned stale in StatisticsStale, in the same transaction as the write, bulk
writes and raw SQL included, so orders never need to know the summary exists. WATCHES
below says, per table, on which events and for which columns a row is stale and what it
makes stale; the PostgreSQL functions and triggers and the SQLite triggers are both
generated from it, so the two dialects cannot say different things, and a test
(tests/robot/test_statistics_triggers.py) fails when the summariser reads a column no
trigger watches or the database's triggers differ from this declaration.

Why not django-pgtrigger: it writes PostgreSQL triggers only, and the embedded demo runs
on SQLite, which needs the same triggers; two hand-kept copies of the rules are what this
module replaces.

On PostgreSQL an insert or a delete fires one trigger per statement, reading the rows
from a transition table (a bulk insert of timeline events is one trigger call); an update
fires per row, and only when a watched column changed (PostgreSQL allows no column list
with transition tables). SQLite only has row triggers.

SQLite quirk: Django alters a table on SQLite by rebuilding it (AddField of a NOT NULL
column or one with a default, most AlterFields, some RemoveFields): it copies the table
and drops the old one, and with it, silently, every trigger on it. So a migration that
alters a watched table, or changes WATCHES, ends with

    migrations.RunPython(recreate_statistics_triggers_migration, drop_statistics_triggers_migration)

or calls recreate_statistics_triggers(schema_editor) from its own RunPython (robot
migration 0018 is the example). The triggers test, run on SQLite, fails until it does.
"""

from collections.abc import Iterable
from dataclasses import dataclass

STALE = "robot_statisticsstale"
PREFIX = "robot_statistics_"
INSERT, UPDATE, DELETE = "insert", "update", "delete"


@dataclass(frozen=True)
class Mark:
    """What a changed row makes stale (`stale`: "line_id" or "document_id"): the id in the
    row's `column`, or, with `select`, the ids that query finds for it ({ids} is the
    row's `column`, or all changed rows' on PostgreSQL's statement triggers)."""

    stale: str
    column: str
    select: str = ""


@dataclass(frozen=True)
class Watch:
    """A table's rows mark `marks` stale when inserted or deleted (if in `events`) and
    when an update changes one of `columns`. A second watch on a table, for columns that
    make more stale than the others, is told apart by its `suffix`."""

    table: str
    events: tuple[str, ...]
    columns: tuple[str, ...]
    marks: tuple[Mark, ...]
    suffix: str = ""

    def name(self, event: str) -> str:
        suffix = f"_{self.suffix}" if self.suffix else ""
        return f"{PREFIX}stale_{self.table}{suffix}_{event}"


LINE = Mark("line_id", "line_id")
DOCUMENT = Mark("document_id", "document_id")

# Each table the summariser reads, and every column of it that it reads besides the id.
WATCHES = (
    Watch(
        "orders_orderevent",
        (INSERT, UPDATE, DELETE),
        ("line_id", "action", "at", "actor_id", "to_status"),
        (LINE,),
    ),
    Watch(
        "orders_orderline",
        (INSERT, UPDATE, DELETE),
        ("kind_id", "status"),
        (Mark("line_id", "id"),),
    ),
    Watch(
        # Its documents count in the unit of the line's order.
        "orders_orderline",
        (UPDATE,),
        ("order_id",),
        (
            Mark("line_id", "id"),
            Mark("document_id", "id", "SELECT id FROM robot_document WHERE line_id IN ({ids})"),
        ),
        suffix="order",
    ),
    Watch(
        # A new order has no lines yet, and a deleted one has lost them first.
        "orders_order",
        (UPDATE,),
        ("unit_id", "start_date"),
        (
            Mark("line_id", "id", "SELECT id FROM orders_orderline WHERE order_id IN ({ids})"),
            Mark(
                "document_id",
                "id",
                "SELECT d.id FROM robot_document d JOIN orders_orderline l ON l.id = d.line_id"
                " WHERE l.order_id IN ({ids})",
            ),
        ),
    ),
    Watch(
        "robot_document",
        (INSERT, UPDATE, DELETE),
        ("line_id", "received_at", "kind_id", "outcome", "state"),
        (Mark("document_id", "id"), LINE),
    ),
    Watch(
        "robot_filingjob",
        (INSERT, UPDATE, DELETE),
        ("line_id", "created_at", "state", "attempts"),
        (LINE,),
    ),
    Watch(
        "robot_proposal",
        (INSERT, UPDATE, DELETE),
        ("line_id", "document_id", "created_at", "proposed", "decided", "sampled"),
        (LINE, DOCUMENT),
    ),
)


def declared_triggers() -> set[tuple[str, str]]:
    """(table, trigger name) of every trigger WATCHES declares."""
    return {(watch.table, watch.name(event)) for watch in WATCHES for event in watch.events}


# --- SQL -------------------------------------------------------------------------------


def _row_marks(watch: Watch, event: str, differs: str) -> list[str]:
    """Statements for one row (NEW, OLD): on an update both the new row's and, when the
    column changed (a document moved to another line), the old row's ids."""
    rows = {INSERT: ["NEW"], UPDATE: ["NEW", "OLD"], DELETE: ["OLD"]}[event]
    statements = []
    for mark in watch.marks:
        for row in rows:
            value = f"{row}.{mark.column}"
            if row == "OLD" and event == UPDATE:
                if mark.column not in watch.columns:
                    continue  # the key never changes (an id): NEW has marked it
                condition = f"OLD.{mark.column} {differs} NEW.{mark.column}"
            else:
                condition = ""
            if mark.select:
                sql = mark.select.format(ids=value) + (f" AND {condition}" if condition else "")
            else:
                sql = f"SELECT {value} WHERE {value} IS NOT NULL" + (
                    f" AND {condition}" if condition else ""
                )
            statements.append(f"INSERT INTO {STALE} ({mark.stale}) {sql};")
    return statements


def _changed(watch: Watch, columns: Iterable[str], differs: str) -> str:
    return " OR ".join(f"OLD.{column} {differs} NEW.{column}" for column in columns)


def postgresql(watch: Watch, columns: tuple[str, ...]) -> list[str]:
    """CREATE FUNCTION and CREATE TRIGGER statements for one table (`columns`: the watched
    columns the table has)."""
    statements = []
    for event in watch.events:
        name = watch.name(event)
        if event == UPDATE:
            if not columns:
                continue
            body = _row_marks(watch, event, "IS DISTINCT FROM")
            trigger = (
                f"CREATE TRIGGER {name} AFTER UPDATE OF {', '.join(columns)} ON {watch.table}"
                f" FOR EACH ROW WHEN ({_changed(watch, columns, 'IS DISTINCT FROM')})"
                f" EXECUTE FUNCTION {name}()"
            )
        else:
            body = [
                f"INSERT INTO {STALE} ({mark.stale}) "
                + (
                    mark.select.format(ids=f"SELECT {mark.column} FROM changed")
                    if mark.select
                    else f"SELECT DISTINCT {mark.column} FROM changed"
                    f" WHERE {mark.column} IS NOT NULL"
                )
                + ";"
                for mark in watch.marks
            ]
            rows = "NEW" if event == INSERT else "OLD"
            trigger = (
                f"CREATE TRIGGER {name} AFTER {event.upper()} ON {watch.table}"
                f" REFERENCING {rows} TABLE AS changed"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            )
        statements.append(
            f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
            + " ".join(body)
            + " RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        statements.append(trigger)
    return statements


def sqlite(watch: Watch, columns: tuple[str, ...]) -> list[str]:
    """CREATE TRIGGER statements for one table (`columns`: the watched columns it has)."""
    statements = []
    for event in watch.events:
        if event == UPDATE:
            if not columns:
                continue
            head = (
                f"AFTER UPDATE OF {', '.join(columns)} ON {watch.table}"
                f" WHEN {_changed(watch, columns, 'IS NOT')}"
            )
        else:
            head = f"AFTER {event.upper()} ON {watch.table}"
        body = " ".join(_row_marks(watch, event, "IS NOT"))
        statements.append(f"CREATE TRIGGER {watch.name(event)} {head} BEGIN {body} END")
    return statements


# --- In the database -------------------------------------------------------------------


def installed_triggers(connection) -> set[tuple[str, str]]:
    """(table, trigger name) of every statistics trigger in the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t"
                " JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
            )
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        else:
            return set()
        return {(table, name) for table, name in cursor.fetchall() if name.startswith(PREFIX)}


def installed_functions(connection) -> list[str]:
    """The statistics' trigger functions in the database (PostgreSQL; SQLite has none)."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = current_schema()"
        )
        return [name for (name,) in cursor.fetchall() if name.startswith(PREFIX)]


def drop_statistics_triggers(schema_editor) -> None:
    """Drop every statistics trigger (and PostgreSQL function) in the database, whichever
    migration made it."""
    connection = schema_editor.connection
    for table, name in sorted(installed_triggers(connection)):
        if connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}", params=None)
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)
    for name in installed_functions(connection):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()", params=None)


def recreate_statistics_triggers(schema_editor) -> None:
    """Drop the statistics triggers and create them again from WATCHES, in the dialect of
    the migration's database. A migration runs with today's WATCHES on a database that
    may be older, so only the columns the table has by then are watched; the migration
    that adds a watched column calls this again."""
    connection = schema_editor.connection
    generate = {"postgresql": postgresql, "sqlite": sqlite}.get(connection.vendor)
    drop_statistics_triggers(schema_editor)
    if generate is None:
        return
    for watch in WATCHES:
        with connection.cursor() as cursor:
            existing = {
                column.name
                for column in connection.introspection.get_table_description(cursor, watch.table)
            }
        columns = tuple(column for column in watch.columns if column in existing)
        for sql in generate(watch, columns):
            schema_editor.execute(sql, params=None)


def recreate_statistics_triggers_migration(apps, schema_editor) -> None:
    """RunPython forwards: see the module's docstring."""
    recreate_statistics_triggers(schema_editor)


def drop_statistics_triggers_migration(apps, schema_editor) -> None:
    """RunPython backwards."""
    drop_statistics_triggers(schema_editor)

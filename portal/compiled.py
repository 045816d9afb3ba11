"""A query compiled to SQL once per process and run again with other values.

Building and compiling a queryset with subqueries, annotations and select_related costs
Python more time than the database takes to run it (about 3 ms a certificate for the
robot's order-line match, against 1 ms in the database). The robot runs the same few
queries for every certificate, so they are compiled once, with placeholders where the
values go, and run with each certificate's values: same SQL, same instances (with
select_related objects and annotations) as the queryset would give.
"""

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError


class CompiledQuery:
    """`build(**placeholders)` returns the queryset, the placeholders standing where the
    values go; `kinds` names each value's Python type (str or int). Run with `run(**values)`.

    Only for querysets of model instances whose values go into the WHERE clause as plain
    parameters (a compile that does not carry every placeholder through raises). Values
    are sent as given, not prepared by a field: pass them as the database stores them
    (ids, codes, hashes), and use int placeholders only for ordinary and big integer
    fields. One per process, like the connection it compiles for (Celery's workers are
    processes)."""

    def __init__(self, build: Callable[..., QuerySet], **kinds: type) -> None:
        self._build = build
        self._placeholders = {
            name: _placeholder(name, kind, index)
            for index, (name, kind) in enumerate(kinds.items())
        }
        self._compiled: tuple | None = None

    def run(self, **values: Any) -> list[Model]:
        sql, params, slots, compiler, converters, db = self._compiled or self._compile()
        connection = connections[db]
        if (
            compiler.query.select_for_update
            and connection.features.has_select_for_update
            and connection.get_autocommit()
        ):  # as the queryset itself would refuse
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(params)
        for position, name in slots:
            params[position] = values[name]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        return [self._instance(compiler, db, row) for row in rows]

    def _compile(self) -> tuple:
        queryset = self._build(**self._placeholders)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        by_value = {value: name for name, value in self._placeholders.items()}
        slots = [
            (position, by_value[value])
            for position, value in enumerate(params)
            if isinstance(value, str | int) and value in by_value
        ]
        missing = set(self._placeholders) - {name for _position, name in slots}
        if missing:
            raise ValueError(f"Not parameters of the compiled query: {sorted(missing)}")
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self._fields = (start, end, [column[0].target.attname for column in select[start:end]])
        self._related = get_related_populators(klass_info, select, queryset.db)
        converters = compiler.get_converters([column[0] for column in select])
        self._compiled = (sql, tuple(params), slots, compiler, converters, queryset.db)
        return self._compiled

    def _instance(self, compiler, db: str, row) -> Model:
        """As Django's ModelIterable builds it: the model's fields, the select_related
        objects, the annotations."""
        start, end, names = self._fields
        obj = compiler.klass_info["model"].from_db(db, names, row[start:end])
        for populator in self._related:
            populator.populate(row, obj)
        for name, position in compiler.annotation_col_map.items():
            setattr(obj, name, row[position])
        return obj


def _placeholder(name: str, kind: type, index: int):
    if kind is int:
        return -2_000_000_000 - index
    if kind is str:
        return f"\x00{name}\x00"
    raise TypeError(f"A placeholder is a str or an int, not {kind.__name__}")

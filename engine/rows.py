"""The few statements every step of every instance runs, compiled by the ORM once per shape.

Building a statement through the ORM costs about 0.25 ms of Python, several times
what SQLite takes to run it, and a service step runs five of them. These functions
let Django's own compilers write the SQL once per model, fields and options, then
run it again with new values, each prepared by its field (`get_db_prep_save`) as
the ORM itself does. They send no model signals, like `QuerySet.update()` and
`bulk_create()`. Everything else goes through the ORM as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from django.db import connections, router, transaction
from django.db.models import Model, Q
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery, UpdateQuery

_compiled: dict[tuple, str] = {}
_lock = threading.Lock()


def _sql(key: tuple, build) -> str:
    sql = _compiled.get(key)
    if sql is None:
        sql = build()
        with _lock:
            _compiled[key] = sql
    return sql


def insert(objs: Sequence[Model], *, ignore_conflicts: bool = False, return_pk: bool = False) -> None:
    """Insert unsaved instances of one model, all their columns but an automatic primary key.

    With `return_pk` (one object only) the object gets its new primary key, as `save()` would.
    """
    if not objs:
        return
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not (f.primary_key and f.db_returning)]
    if return_pk and (len(objs) != 1 or not connection.features.can_return_columns_from_insert):
        # Not worth a second code path: the ORM knows every database's way (and sends save()'s signals).
        for obj in objs:
            obj.save(force_insert=True, using=using)
        return

    def build() -> str:
        query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
        query.insert_values(fields, [model()])
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = [meta.pk] if return_pk else None
        ((sql, _params),) = compiler.as_sql()
        return sql

    sql = _sql(("insert", using, model, ignore_conflicts, return_pk), build)
    rows = [[f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields] for obj in objs]
    # As the ORM does: a failed statement inside atomic() leaves the transaction to roll back.
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        if len(rows) > 1:
            cursor.executemany(sql, rows)
        else:
            cursor.execute(sql, rows[0])
            if return_pk:
                objs[0].pk = cursor.fetchone()[0]
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using


def update(model: type[Model], where: dict, values: dict) -> int:
    """`model.objects.filter(**where).update(**values)` for plain values and exact matches; rows changed.

    `where` names fields (not lookups) and holds no None; `values` holds no expressions.
    """
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    set_fields = [meta.get_field(name) for name in values]
    where_fields = [meta.pk if name == "pk" else meta.get_field(name) for name in where]
    if any(value is None for value in where.values()):
        raise ValueError("rows.update() matches values, not NULL")
    prepared = [f.get_db_prep_save(value, connection) for f, value in zip(set_fields, values.values(), strict=True)]

    def build() -> str:
        query = UpdateQuery(model)
        query.add_update_values(values)
        query.add_q(Q(**{f.attname: value for f, value in zip(where_fields, where.values(), strict=True)}))
        sql, _params = query.get_compiler(using=using).as_sql()
        return sql

    # The ORM writes "= NULL" for a value that prepares to None: part of the statement's shape.
    nulls = tuple(value is None for value in prepared)
    key = ("update", using, model, tuple(f.attname for f in set_fields), nulls, tuple(f.attname for f in where_fields))
    sql = _sql(key, build)
    params = [value for value in prepared if value is not None]
    params += [f.get_db_prep_value(f.get_prep_value(value), connection, prepared=True)
               for f, value in zip(where_fields, where.values(), strict=True)]
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount

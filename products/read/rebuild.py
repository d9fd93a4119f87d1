"""Rebuild the read tables from the write tables, compare them with it, repair them.

In split mode the write side is read from ``default`` and the read tables written in the
read database, so rows are copied across (``projector.project``) and compared by key.
"""

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from cqrs_demo.routers import read_store_alias
from products.read.models import PROJECTOR_POSITION, ProjectorPosition
from products.read.projector import execute, project
from products.read.tables import CATEGORIES, MOVEMENTS, PRODUCTS, READ_TABLES
from products.sql import SNAPSHOT_XMIN


def clear():
    """Delete every read row; DELETE keeps concurrent readers on the old rows until commit."""
    return sum(execute(f"DELETE FROM {table.name}") for table in READ_TABLES)


def rebuild(progress=None):
    """Recompute every read table from the write tables; the caller provides the transaction.

    Rows are deleted rather than truncated: TRUNCATE would lock readers out, while DELETE
    lets concurrent reads keep seeing the old rows until the rebuild commits.
    """
    steps = [
        ("clear read tables", clear),
        ("categories", lambda: project(CATEGORIES)),
        ("products", lambda: project(PRODUCTS)),
        ("stock movements", lambda: project(MOVEMENTS)),
    ]
    counts = {}
    for index, (label, step) in enumerate(steps, start=1):
        result = step()
        counts[label] = result
        if progress:
            progress(index, len(steps), label, result)
    return counts


def rebuild_all(progress=None):
    """Rebuild every read table in its own transaction(s); return the row counts.

    In split mode the write side is read in one REPEATABLE READ snapshot, and the projector
    worker's position is set to the start of the transactions that snapshot may not have
    seen finished, so it goes on with every event the rebuilt rows may not include yet.
    """
    read = read_store_alias()
    with transaction.atomic(), transaction.atomic(using=read):
        if read == DEFAULT_DB_ALIAS:
            return rebuild(progress)
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # Every transaction below the snapshot's xmin is in the rebuilt rows; those from
            # xmin on may or may not be, so the worker goes on from there (re-applying one
            # changes nothing: rows are upserted, and never moved to an older version).
            cursor.execute(f"SELECT {SNAPSHOT_XMIN}")
            (xmin,) = cursor.fetchone()
        counts = rebuild(progress)
        ProjectorPosition.objects.using(read).update_or_create(
            name=PROJECTOR_POSITION, defaults={"last_xact_id": xmin - 1, "last_event_id": 2**63 - 1}
        )
        return counts


@dataclass(frozen=True)
class Difference:
    """A read row that is missing, extra, or differs from what the write tables imply."""

    table: str
    key: str
    kind: str  # "missing", "extra" or "wrong"
    fields: tuple = ()

    def __str__(self):
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{self.table} {self.key}: {self.kind}{detail}"


def _compare(table, pairs):
    """Turn (expected, actual) row pairs into differences."""
    for want, have in pairs:
        if want is None:
            yield Difference(table.name, str(have[0]), "extra")
        elif have is None:
            yield Difference(table.name, str(want[0]), "missing")
        else:
            wrong = tuple(c for c, w, h in zip(table.column_names, want, have, strict=True) if w != h)
            if wrong:
                yield Difference(table.name, str(want[0]), "wrong", wrong)


def _pairs_in_sql(table):
    # Key first in every column list, so row[0] is the key on both sides.
    expected = ", ".join(f"e.{column}" for column in table.column_names)
    actual = ", ".join(f"r.{column}" for column in table.column_names)
    sql = (
        f"SELECT {expected}, {actual} FROM ({table.expected_sql()}) e"
        f" FULL JOIN {table.name} r ON r.{table.key} = e.{table.key}"
        f" WHERE e.{table.key} IS NULL OR r.{table.key} IS NULL OR ({expected}) IS DISTINCT FROM ({actual})"
        f" ORDER BY coalesce(e.{table.key}, r.{table.key})"
    )
    width = len(table.column_names)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql)
        for row in cursor.fetchall():
            want, have = row[:width], row[width:]
            yield (None if want[0] is None else want), (None if have[0] is None else have)


def _pairs_across_databases(table):
    # Two databases cannot be joined: fetch both sides and match them by key.
    columns = ", ".join(table.column_names)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM ({table.expected_sql()}) e")
        expected = {row[0]: row for row in cursor.fetchall()}
    with connections[read_store_alias()].cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table.name}")
        actual = {row[0]: row for row in cursor.fetchall()}
    for key in sorted(expected.keys() | actual.keys(), key=str):
        yield expected.get(key), actual.get(key)


def differences():
    """Compare every read table with what the write tables imply; return the differences."""
    pairs = _pairs_in_sql if read_store_alias() == DEFAULT_DB_ALIAS else _pairs_across_databases
    return [d for table in READ_TABLES for d in _compare(table, pairs(table))]


def repair(found):
    """Fix the given differences: delete extra rows, recompute missing and wrong ones."""
    write_keys = {CATEGORIES: ("c.slug", "text"), PRODUCTS: ("p.id", "uuid"), MOVEMENTS: ("m.id", "bigint")}
    for table, (column, sql_type) in write_keys.items():
        extra = [d.key for d in found if d.table == table.name and d.kind == "extra"]
        stale = [d.key for d in found if d.table == table.name and d.kind != "extra"]
        if extra:
            execute(f"DELETE FROM {table.name} WHERE {table.key}::text = ANY(%s)", [extra])
        if stale:
            project(table, f"{column} = ANY(%s::{sql_type}[])", [stale])

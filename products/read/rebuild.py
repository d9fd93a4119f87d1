"""Rebuild the read tables by swap; compare them with the write tables, repair them.

``rebuild_all`` fills fresh, unindexed copies of the read tables, gives them the live
tables' indexes, analyzes them and swaps them in (``products.read.swap``): readers keep the
old rows and wait only for the swap. In single-database mode each copy is one
``INSERT … SELECT``, and writers (the same-transaction projector) wait for the rebuild, so
no write falls between the copy and the swap. In split mode the write side is read in one
REPEATABLE READ snapshot and streamed across in pages; the rebuild holds the worker's
position from before that snapshot to the swap (the worker waits, the readers do not), and
sets it to the snapshot in the swap's transaction, so the worker then applies to the new
tables exactly the events they do not include yet.

``iter_differences`` compares in ordered chunks through server-side cursors, so memory
stays flat in the row count: one FULL JOIN in SQL with one database, a merge join of two
key-ordered streams with two.
"""

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg2.extras import execute_values

from cqrs_demo.routers import read_store_alias
from products.events import feed
from products.read import swap
from products.read.lag import PROJECTOR_CONSUMER, PROJECTOR_POSITION
from products.read.models import ProjectorPosition
from products.read.tables import READ_TABLES

CHUNK = 2000  # rows per page copied across, per round trip of a comparison
MAINTENANCE_WORK_MEM = "256MB"  # for the index builds of a rebuild
UNITS = {"indexes": "indexes", "analyze": "tables", "swap": "lock attempt(s)"}  # what each step counts (else rows)


def execute(sql, params=(), using=None):
    """Run ``sql`` on the read store (or ``using``); return the row count."""
    with connections[using or read_store_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def project(table, where="TRUE", params=()):
    """Insert or refresh the read rows of ``table`` whose write rows match ``where``, recomputed from the write tables.

    With the read tables beside the write tables this is one INSERT ... SELECT; with a
    separate read database the expected rows are streamed across in pages. (Rebuilds and
    repairs only: events are applied by their projections, ``products.read.projections``.)
    """
    expected = table.expected_sql(where)
    target = read_store_alias()
    if target == DEFAULT_DB_ALIAS:
        return execute(table.insert_sql(expected), params)
    insert = table.insert_sql("VALUES %s")
    copied = 0
    with connections[DEFAULT_DB_ALIAS].chunked_cursor() as source, connections[target].cursor() as sink:
        source.execute(expected, params)
        while rows := source.fetchmany(CHUNK):
            execute_values(sink.cursor, insert, rows, page_size=CHUNK)
            copied += len(rows)
    return copied


def clear():
    """Delete every read row; DELETE keeps concurrent readers on the old rows until commit."""
    return sum(execute(f"DELETE FROM {table.name}") for table in READ_TABLES)


# The split-mode worker's position, stored in the read database's transaction of the swap:
# the rebuilt rows hold exactly the events the snapshot saw, so the worker goes on from that
# snapshot, caught up, skipping the slot's transactions it saw. Its LSN stays (or becomes a
# new slot's): the row is locked before the snapshot, so every commit at or below it is in the snapshot.


def _snapshot_horizon(read):
    """Lock the worker's position, then start the write side's REPEATABLE READ snapshot; return it, last event id."""
    ProjectorPosition.objects.using(read).get_or_create(name=PROJECTOR_POSITION)
    ProjectorPosition.objects.using(read).select_for_update().get(name=PROJECTOR_POSITION)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_current_snapshot()::text, coalesce(max(id), 0) FROM products_event")
        return cursor.fetchone()


def _set_worker_position(read, horizon, confirmed):
    snapshot, highest_event_id = horizon
    position = ProjectorPosition.objects.using(read).get(name=PROJECTOR_POSITION)
    position.last_xact_id = position.last_event_id = 0
    position.highest_event_id = highest_event_id
    feed.start(position, snapshot, confirmed, caught_up=True)  # the read tables hold what the snapshot saw
    position.save()


def _fill(table, cursor):
    """Create the unindexed copy of ``table`` and fill it from the write tables; return the row count."""
    insert = f"INSERT INTO {swap.create(cursor, table.name)} ({', '.join(table.column_names)}) "
    if read_store_alias() == DEFAULT_DB_ALIAS:
        cursor.execute(insert + table.expected_sql())
        return cursor.rowcount
    copied = 0
    with connections[DEFAULT_DB_ALIAS].chunked_cursor() as source:
        source.execute(table.expected_sql())
        while rows := source.fetchmany(CHUNK):
            execute_values(cursor.cursor, insert + "VALUES %s", rows, page_size=CHUNK)
            copied += len(rows)
    return copied


def rebuild_all(progress=None, lock_attempts=None):
    """Recompute every read table from the write tables into new tables and swap them in.

    Returns the row counts by step. ``progress(step, total, label, result)`` is called after
    each step, the last ("swap") while the swap's locks are still held. ``lock_attempts``
    bounds the tries to lock the live tables (default: until the long readers are gone).
    """
    read = read_store_alias()
    split = read != DEFAULT_DB_ALIAS
    live = [table.name for table in READ_TABLES]
    indexes = {}
    # Before the snapshot, outside any transaction.
    confirmed = feed.ensure_slot(feed.slot_name(PROJECTOR_CONSUMER)) if split else None
    with transaction.atomic(), transaction.atomic(using=read), connections[read].cursor() as cursor:
        horizon = _snapshot_horizon(read) if split else None
        if not split:  # the projector writes in the commands' transactions: they wait for the copy
            cursor.execute(f"LOCK TABLE {', '.join(live)} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [MAINTENANCE_WORK_MEM])

        def add_indexes():
            indexes.update({name: swap.add_indexes(cursor, name) for name in live})
            return sum(map(len, indexes.values()))

        def analyze():
            for name in live:
                cursor.execute(f"ANALYZE {swap.shadow(name)}")
            return len(live)

        def swap_in():
            if split:
                _set_worker_position(read, horizon, confirmed)
            return swap.swap(cursor, indexes, read, lock_attempts)

        steps = [(table.label, lambda table=table: _fill(table, cursor)) for table in READ_TABLES]
        steps += [("indexes", add_indexes), ("analyze", analyze), ("swap", swap_in)]
        counts = {}
        for number, (label, step) in enumerate(steps, start=1):
            counts[label] = step()
            if progress:
                progress(number, len(steps), label, counts[label])
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


def _stream(alias, sql, chunk_size):
    """Yield the rows of ``sql`` from a server-side cursor, ``chunk_size`` per round trip."""
    with connections[alias].chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(chunk_size):
            yield from rows


def _pairs_in_sql(table, chunk_size):
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
    for row in _stream(DEFAULT_DB_ALIAS, sql, chunk_size):
        want, have = row[:width], row[width:]
        yield (None if want[0] is None else want), (None if have[0] is None else have)


def _key_order(table, read):
    """Return the ORDER BY of ``table``'s key that both databases and Python agree on."""
    with connections[read].cursor() as cursor:
        cursor.execute(
            "SELECT t.typcategory FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
            " WHERE a.attrelid = %s::regclass AND a.attname = %s",
            [table.name, table.key],
        )
        (category,) = cursor.fetchone()
    # Text in byte order ("C"), which is Python's order of str; uuid and integers sort alike anyway.
    return f'{table.key} COLLATE "C"' if category == "S" else table.key


def _pairs_across_databases(table, chunk_size):
    # Two databases cannot be joined: merge two streams ordered by key, like a sorted merge.
    read = read_store_alias()
    order, columns = _key_order(table, read), ", ".join(table.column_names)
    expected_sql = f"SELECT {columns} FROM ({table.expected_sql()}) e ORDER BY {order}"
    expected = _stream(DEFAULT_DB_ALIAS, expected_sql, chunk_size)
    actual = _stream(read, f"SELECT {columns} FROM {table.name} ORDER BY {order}", chunk_size)
    want, have = next(expected, None), next(actual, None)
    while want is not None or have is not None:
        if have is None or (want is not None and want[0] < have[0]):
            yield want, None
            want = next(expected, None)
        elif want is None or have[0] < want[0]:
            yield None, have
            have = next(actual, None)
        else:
            yield want, have
            want, have = next(expected, None), next(actual, None)


def iter_differences(chunk_size=CHUNK):
    """Yield every difference between the read tables and the write tables, table by table, in key order.

    Run it inside a transaction of both databases: the server-side cursors then read
    ``chunk_size`` rows at a time (outside one, Django declares them WITH HOLD, which makes
    the server materialize each result first).
    """
    pairs = _pairs_in_sql if read_store_alias() == DEFAULT_DB_ALIAS else _pairs_across_databases
    for table in READ_TABLES:
        yield from _compare(table, pairs(table, chunk_size))


def differences(chunk_size=CHUNK):
    """Return every difference as a list (for tests and small stores; the command streams)."""
    with transaction.atomic(), transaction.atomic(using=read_store_alias()):
        return list(iter_differences(chunk_size))


def verify(report, fix=False, chunk_size=CHUNK):
    """Pass each difference to ``report``; with ``fix``, repair them chunk by chunk. Return how many.

    Call it inside a transaction of both databases. The cursors read the snapshot of their
    start, so repairing rows behind them changes nothing they still have to read.
    """
    found, pending = 0, []
    for difference in iter_differences(chunk_size):
        report(difference)
        found += 1
        if fix:
            pending.append(difference)
        if len(pending) >= chunk_size:
            repair(pending)
            pending = []
    if pending:
        repair(pending)
    return found


def repair(found):
    """Fix the given differences: delete extra rows, recompute missing and wrong ones."""
    for table in READ_TABLES:
        extra = [d.key for d in found if d.table == table.name and d.kind == "extra"]
        stale = [d.key for d in found if d.table == table.name and d.kind != "extra"]
        if extra:
            execute(f"DELETE FROM {table.name} WHERE {table.key}::text = ANY(%s)", [extra])
        if stale:
            project(table, f"{table.key_source} = ANY(%s::{table.key_type}[])", [stale])

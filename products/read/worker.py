"""The log-following projector: apply the event log to a separate read database, in commit order (split mode).

It reads the log through the event feed (``products.events.feed``): the transactions that
committed, in the order they did, through a replication slot of its own, so a transaction
left open anywhere on the server holds back no other. Each batch's writes and the LSN of
its last commit are stored together in one transaction of the read database; the slot is
advanced only after that commit, and the worker skips what it finds at or below its stored
LSN, so a crash or a restart never skips an event nor applies one twice.

A new position (a fresh read store, a new slot, a rebuild) starts from a snapshot of the
write database taken after the slot existed: the events that snapshot saw are read from the
table in (xact_id, id) order ("catching up"), the slot's transactions that it saw are
skipped. Events carry the state they left (see ``products.write.event_log``), so applying
them needs no access to the write tables, and the log alone can rebuild the read store.

What each event does is its projection (``products.read.projections.PROJECTIONS``), the one
single-database mode runs in the command's transaction too: runs of consecutive events are
applied set-based (product events, stock events), a row never moving to an older version.
A batch's statements go in few round trips, each sent by a thread while the next are built
(``Statements``).
"""

import itertools
import logging
import threading
import time

import orjson
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.utils import timezone

from cqrs_demo.routers import read_store_alias
from products import events
from products.events import feed
from products.read import lag as lag_sql
from products.read.lag import PROJECTOR_CONSUMER, PROJECTOR_POSITION
from products.read.models import ProjectorPosition
from products.read.projections import PROJECTIONS
from products.read.rebuild import clear
from products.sql import connection_lost, fetch_dicts

logger = logging.getLogger("products.worker")


def slot():
    """Return the worker's slot: one per write database on a server (``feed.slot_name``)."""
    return feed.slot_name(PROJECTOR_CONSUMER)


# Rows per set-based statement: a bulk import's run of 100,000 events is applied in statements
# of this many, whose rows the server keeps in memory (work_mem) rather than spilling them.
RUN_ROWS = 5000


def apply_events(cursor, records):
    """Apply ``records`` (dicts with ``type`` and ``payload``, JSON text or parsed) to the read store, in order."""
    statements = Statements(cursor)
    try:
        for apply, run in itertools.groupby(records, key=lambda record: PROJECTIONS[events.by_name(record["type"])]):
            # Parsed a statement's worth at a time: the first is sent while the next are parsed.
            while payloads := [_payload(record["payload"]) for record in itertools.islice(run, RUN_ROWS)]:
                apply(statements, payloads)
        statements.send()
    finally:
        statements.close()  # a send in flight ends before the transaction does


def _payload(payload):
    return orjson.loads(payload) if isinstance(payload, str | bytes) else payload


def _upgrade(position):
    """Give a position stored before events had transaction ids the one of its event.

    Migration 0004 gave every event it found the id of its own transaction; without this,
    ``(xact_id, id) > (0, N)`` would apply the whole log again.
    """
    rows = fetch_dicts(
        "SELECT xact_id FROM products_event WHERE id <= %s ORDER BY id DESC LIMIT 1", [position.last_event_id]
    )
    if rows:
        position.last_xact_id = rows[0]["xact_id"]


class Statements:
    """A batch's statements, sent to the read database in few round trips, while the next are built.

    ``execute`` queues a statement with its parameters; once the queue holds about
    ``SEND_BYTES`` of parameters it is sent in one round trip, by a thread, while the caller
    builds the next statements (psycopg2 releases the GIL while the server works, so with
    two cores building and applying overlap). At most one send is in flight, on the batch's
    connection, and nothing else uses that connection meanwhile: ``fetchone`` and
    ``fetchall`` wait for it, send what is queued, then run their own statement; ``send``
    sends what is queued and waits. They run in order, in the batch's transaction, as they
    would one by one. ``close`` waits for a send in flight (call it before the transaction ends).
    """

    SEND_BYTES = 1 << 20

    def __init__(self, cursor):
        self._cursor = cursor
        self._queued = []
        self._bytes = 0
        self._sending = None  # the thread of the send in flight
        self._error = None  # what it raised, raised again by the next wait

    def execute(self, sql, params=None):
        self._queued.append((sql, params))
        values = params.values() if isinstance(params, dict) else params or ()
        self._bytes += len(sql) + sum(len(value) for value in values if isinstance(value, str))
        if self._bytes >= self.SEND_BYTES:
            self._send_queued(wait=False)

    def fetchall(self, sql, params=None):
        self.send()
        self._cursor.execute(sql, params)
        return self._cursor.fetchall()

    def fetchone(self, sql, params=None):
        self.send()
        self._cursor.execute(sql, params)
        return self._cursor.fetchone()

    def send(self):
        self._send_queued(wait=True)

    def close(self):
        """Wait for a send in flight; what it raised is dropped (the transaction rolls back anyway)."""
        if self._sending is not None:
            self._sending.join()
            self._sending = None
        self._error = None

    def _send_queued(self, wait):
        self._wait()
        if not self._queued:
            return
        queued, self._queued, self._bytes = self._queued, [], 0
        if wait:
            self._execute(queued)
        else:
            self._sending = threading.Thread(target=self._execute_catching, args=[queued], daemon=True)
            self._sending.start()

    def _execute(self, queued):
        # Bound here, on the thread that sends: libpq wants one thread at a time on a connection.
        bound = [self._cursor.mogrify(sql, params) for sql, params in queued]
        self._cursor.execute(";\n".join(b.decode() if isinstance(b, bytes) else b for b in bound))

    def _execute_catching(self, queued):
        try:
            self._execute(queued)
        except BaseException as error:  # raised again on the caller's thread
            self._error = error

    def _wait(self):
        if self._sending is not None:
            self._sending.join()
            self._sending = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def _locked_position(read):
    ProjectorPosition.objects.using(read).get_or_create(name=PROJECTOR_POSITION)
    # The row lock keeps a second worker (or a rebuild) from applying events concurrently.
    return ProjectorPosition.objects.using(read).select_for_update().get(name=PROJECTOR_POSITION)


def start_from_snapshot(position, snapshot, confirmed, *, caught_up=False):
    """Make ``position`` go on from ``snapshot`` (``feed.start``); upgrade one stored before transaction ids."""
    feed.start(position, snapshot, confirmed, caught_up=caught_up)
    if not caught_up and position.last_event_id and not position.last_xact_id:
        _upgrade(position)


# What a worker whose slot was dropped and created again must do (``feed.next_events``).
_REPLACED_SLOT = "Rebuild the read store (`manage.py rebuild_read_models`), which goes on from the new slot."


def apply_batch(batch_size=5000):
    """Apply the next events of the feed to the read store; return how many were applied."""
    return _step(batch_size)[0]


def _step(batch_size):
    """Apply the next events; return how many, and whether there may be more to read at once.

    Creates the worker's slot the first time (outside any transaction: see ``feed.ensure_slot``).
    """
    read = read_store_alias()
    confirmed = feed.ensure_slot(slot())
    with transaction.atomic(using=read):
        position = _locked_position(read)
        if not position.snapshot:
            start_from_snapshot(position, feed.snapshot(), confirmed)
        step = feed.next_events(slot(), position, confirmed, batch_size, remedy=_REPLACED_SLOT)
        with connections[read].cursor() as cursor:
            apply_events(cursor, step.events)
        if step.moved:  # an idle poll writes nothing
            position.save()
    if step.acknowledge is not None:
        # After the commit: a crash before this only re-reads what is skipped.
        feed.acknowledge(slot(), step.acknowledge)
    return len(step.events), step.moved


class FeedBusy(Exception):
    """Another worker holds the feed (``run`` without ``follow`` does not wait for it)."""


# One worker reads the slot at a time: a read holds the slot, so another worker's advance of
# it fails. A session-level advisory lock on the write database, keyed by the slot's name, held
# while ``run`` runs; PostgreSQL drops it with the session, so a worker killed frees it at once.
_TRY_LOCK_FEED_SQL = "SELECT pg_try_advisory_lock(hashtextextended(%(slot)s, 0))"
_UNLOCK_FEED_SQL = "SELECT pg_advisory_unlock(hashtextextended(%(slot)s, 0))"


class _FeedLock:
    def __init__(self):
        self._session = None  # the connection the lock was taken on: a new one (after a loss) holds nothing

    def take(self, *, wait, poll_interval, should_stop):
        """Return whether this process holds the feed, waiting for it with ``wait`` (until ``should_stop``)."""
        connection = connections["default"]
        connection.ensure_connection()
        if self._session is not None and self._session is connection.connection:
            return True
        told = False
        while True:
            with connection.cursor() as cursor:
                cursor.execute(_TRY_LOCK_FEED_SQL, {"slot": slot()})
                if cursor.fetchone()[0]:
                    self._session = connection.connection
                    return True
            if not wait or should_stop():
                return False
            if not told:
                logger.info("another worker holds the feed", extra={"slot": slot()})
                told = True
            time.sleep(poll_interval)

    def release(self):
        connection = connections["default"]
        if self._session is not None and self._session is connection.connection:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(_UNLOCK_FEED_SQL, {"slot": slot()})
            except DatabaseError:
                pass  # the session is gone, and its lock with it
        self._session = None


def run(*, follow=False, batch_size=5000, poll_interval=0.5, max_backoff=10, on_batch=None, should_stop=lambda: False):
    """Apply batches until everything committed so far is applied (or, with ``follow``, until ``should_stop``).

    One worker per slot at a time: ``run`` holds an advisory lock on the write database keyed by
    the slot's name while it runs. With ``follow``, a second worker waits for it (logging
    "another worker holds the feed" once) and takes over when the first stops or dies; without
    it, ``run`` raises ``FeedBusy`` at once, as the worker holding the feed applies the events.

    Without ``follow`` an unreachable database raises. With it, the worker logs one line per
    failure and tries again after a backoff that doubles up to ``max_backoff`` seconds: a
    batch cut off rolled back with its position, and the slot moved only after a commit,
    so it goes on where the read store says it stopped (taking the lock again on the new session).
    """
    lock = _FeedLock()
    try:
        return _run(lock, follow, batch_size, poll_interval, max_backoff, on_batch, should_stop)
    finally:
        lock.release()


def _run(lock, follow, batch_size, poll_interval, max_backoff, on_batch, should_stop):
    total, backoff, failures = 0, poll_interval, 0
    while not should_stop():
        try:
            if not lock.take(wait=follow, poll_interval=poll_interval, should_stop=should_stop):
                if follow:
                    break  # stopped while waiting
                raise FeedBusy(f"Another worker holds the event feed (slot {slot()}); it applies the events.")
            applied, more = _step(batch_size)
        except DatabaseError as error:
            if not follow or not connection_lost(error):
                raise
            failures += 1
            logger.warning(
                "database unavailable",
                extra={
                    "databases": _unreachable(),
                    "error": (str(error).strip() or type(error).__name__).splitlines()[0],
                    "failures": failures,
                    "retry_in_seconds": backoff,
                },
            )
            time.sleep(backoff)
            backoff = min(backoff * 2, max_backoff)
            continue
        backoff, failures = poll_interval, 0
        total += applied
        if on_batch and applied:
            on_batch(applied, total)
        if not more:
            if not follow:
                return total
            time.sleep(poll_interval)
    return total


def _unreachable():
    """Close every connection (a broken one is never reused) and return the aliases that do not connect again."""
    down = []
    for alias in dict.fromkeys((read_store_alias(), "default")):
        connection = connections[alias]
        connection.close()
        try:
            connection.ensure_connection()
        except (OperationalError, InterfaceError):
            down.append(alias)
    return down


def feed_problem():
    """Return why the feed cannot reach the worker (see ``feed.problem``), or None."""
    return feed.problem(slot())


def lag():
    """Return how far the read store is behind the log: events, seconds and bytes of WAL (``products.read.lag``)."""
    applied = fetch_dicts(lag_sql.APPLIED_SQL, [PROJECTOR_POSITION], read_store_alias())
    position = applied[0]["highest_event_id"] if applied else 0
    [log] = fetch_dicts(lag_sql.LOG_SQL, [position])
    name = slot()
    return lag_sql.report(position, log, name, feed.bytes_behind(name), timezone.now())


def rebuild_from_log(batch_size=5000, progress=None):
    """Empty the read store and replay the whole event log into it, in one transaction.

    It replays what a snapshot taken now sees, from the table; the worker then goes on with
    the slot's transactions that snapshot did not see.
    """
    read = read_store_alias()
    confirmed = feed.ensure_slot(slot())
    with transaction.atomic(using=read):
        position = _locked_position(read)
        clear()
        position.last_xact_id = position.last_event_id = position.highest_event_id = 0
        start_from_snapshot(position, feed.snapshot(), confirmed)
        position.save()
        total = 0
        while not position.caught_up:
            total += apply_batch(batch_size)
            position.refresh_from_db()
            if progress:
                progress(total)
    return total

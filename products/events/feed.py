"""The event log as a feed in commit order: PostgreSQL logical decoding of ``products_event``.

A consumer (the split-mode worker, a relay) reads the events of committed transactions
through a replication slot of its own with the built-in ``pgoutput`` plugin, on a
publication of the event table's inserts. The slot hands transactions over in the order
they committed, and only once they have: a transaction still open anywhere on the server
holds back nothing but itself, where reading the table in (xact_id, id) order had to wait
for every transaction older than the oldest one still running.

Reading is by SQL, so a consumer needs no replication connection:
``pg_logical_slot_peek_binary_changes`` decodes without consuming, the consumer applies
what it read and stores the LSN of the last commit it applied in the same transaction as
its writes, then ``acknowledge`` advances the slot to it. A crash between that commit and
the advance leaves those transactions in the slot: the consumer skips every transaction
whose commit is at or below its stored LSN (``Transaction.end_lsn``), so none is applied
twice and none skipped. The slot keeps the WAL its consumer has not acknowledged: a
consumer that goes away must drop it (``manage.py drop_feed_slot``).

The events committed before a slot existed are not in it. A consumer starting on a new slot
takes a snapshot after creating it (``snapshot``): the events visible in that snapshot are
read from the table (``events_visible_in``), and the transactions the slot hands over are
skipped when visible in it (``visible_in``): between the two, every event once.

The server needs ``wal_level=logical`` (a restart to change), a free
``max_replication_slots`` entry per consumer, and a user with the REPLICATION attribute (or
a superuser) that may create a publication in the database.
"""

import re
import struct
from dataclasses import dataclass, field

from django.db import connections

from products.sql import fetch_dicts

TABLE = "products_event"
PUBLICATION = "products_event_feed"
# A message the feed writes in a transaction of its own to move an idle slot along (see ``read``):
# its commit flushes it, so the next read finds it, whatever the server version.
HEARTBEAT_PREFIX = "products_event_feed"
HEARTBEAT_BYTES = 1 << 20  # an idle slot this far behind the WAL gets a heartbeat
# The memory a read may decode in before spilling to disk (the server's default is 64MB): a
# bulk import is one transaction, and decoding it from disk took twice as long.
DECODING_WORK_MEM = "256MB"

_PEEK_SQL = """
    SELECT data FROM pg_logical_slot_peek_binary_changes(
        %(slot)s, NULL, %(changes)s,
        'proto_version', '1', 'publication_names', %(publication)s, 'messages', 'true')
"""
# The WAL each of the slots named (a list: the one parameter) has not acknowledged, in bytes.
SLOTS_BEHIND_SQL = """
    SELECT slot_name AS slot,
           greatest(pg_current_wal_lsn() - coalesce(confirmed_flush_lsn, '0/0'::pg_lsn), 0)::bigint AS behind
      FROM pg_replication_slots
     WHERE slot_name = ANY(%s)
"""
# How the server stands for a feed: it must decode logically; slots are named for the database.
SERVER_SQL = "SELECT current_setting('wal_level') AS wal_level, current_database() AS database"


class FeedUnavailable(Exception):
    """The server cannot feed this consumer (no logical decoding, or its slot is gone); the message says why."""


@dataclass
class Transaction:
    """One committed transaction's events, in the order it appended them."""

    end_lsn: int  # the end of its commit record: acknowledged, the slot moves past it
    events: list = field(default_factory=list)  # dicts: the event table's columns, as text


@dataclass
class Batch:
    """What one ``read`` found: transactions in commit order, and where to acknowledge to once applied."""

    transactions: list
    ack_lsn: int | None  # None: nothing to acknowledge

    @property
    def events(self):
        return [event for transaction in self.transactions for event in transaction.events]


def lsn_text(lsn):
    """Return an LSN (an int) as PostgreSQL writes it: ``16/B374D848``."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def slot_name(consumer, using="default"):
    """Return the slot of ``consumer`` on the database ``using``: one per consumer and database on a server."""
    return slot_for(consumer, connections[using].settings_dict["NAME"])


def slot_for(consumer, database):
    """Return the slot of ``consumer`` on the database named ``database``."""
    return re.sub(r"[^a-z0-9_]", "_", f"{consumer}_{database}".lower())[:63]


def wal_level(using="default"):
    with connections[using].cursor() as cursor:
        cursor.execute("SHOW wal_level")
        return cursor.fetchone()[0]


def check_server(using="default"):
    """Raise ``FeedUnavailable`` unless the server decodes logically."""
    if problem := wal_level_problem(wal_level(using)):
        raise FeedUnavailable(problem)


def wal_level_problem(level):
    """Return why a server of wal_level ``level`` cannot feed a consumer, or None."""
    if level == "logical":
        return None
    return (
        f"The write database's server has wal_level={level}; the event feed needs wal_level=logical: "
        "`ALTER SYSTEM SET wal_level = logical` (or `-c wal_level=logical`) and restart PostgreSQL."
    )


def problem(slot, using="default"):
    """Return why ``slot`` cannot feed its consumer (no logical decoding, no slot), or None."""
    try:
        check_server(using)
    except FeedUnavailable as error:
        return str(error)
    return None if slot_exists(slot, using) else missing(slot)


def slot_exists(slot, using="default"):
    return confirmed(slot, using) is not None


def confirmed(slot, using="default"):
    """Return the LSN ``slot`` was last advanced to (where a new one starts), or None when it does not exist."""
    rows = fetch_dicts(
        "SELECT confirmed_flush_lsn - '0/0'::pg_lsn AS lsn FROM pg_replication_slots WHERE slot_name = %s",
        [slot],
        using,
    )
    return int(rows[0]["lsn"]) if rows else None


def ensure_slot(slot, using="default"):
    """Create the publication and ``slot`` if missing; return the LSN the slot was last advanced to.

    Every transaction that committed at or below it is one the slot will not hand over: a
    consumer starting a position takes it before its snapshot, which then sees them all, and
    a slot advanced beyond a consumer's stored LSN is one that consumer never read (dropped
    and created again). Call it outside any transaction: creating a slot waits for every
    transaction on the server that has written to end (once, when the slot is new).
    """
    check_server(using)
    lsn = confirmed(slot, using)
    if lsn is not None:
        return lsn
    with connections[using].cursor() as cursor:
        # The publication before the slot: pgoutput looks it up as of each change it decodes.
        cursor.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", [PUBLICATION])
        if not cursor.fetchone():
            cursor.execute(f"CREATE PUBLICATION {PUBLICATION} FOR TABLE {TABLE} WITH (publish = 'insert')")
        cursor.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", [slot])
    return confirmed(slot, using)


def drop_slot(slot, using="default"):
    """Drop ``slot`` (the server then keeps no WAL for it); return whether it existed."""
    if not slot_exists(slot, using):
        return False
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_drop_replication_slot(%s)", [slot])
    return True


def snapshot(using="default"):
    """Return a snapshot taken now, as text (``xmin:xmax:xip,…``), to store with a consumer's position."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        return cursor.fetchone()[0]


def visible_in(snapshot_text, xact_id):
    """Return whether the transaction ``xact_id`` had committed when ``snapshot_text`` was taken.

    As ``pg_visible_in_snapshot`` for a transaction known to have committed (every one the
    slot hands over has).
    """
    xmin, xmax, running = snapshot_text.split(":")
    if xact_id < int(xmin):
        return True
    if xact_id >= int(xmax):
        return False
    return str(xact_id) not in running.split(",")


# The events a snapshot saw, after a position in (xact_id, id) order: every one committed.
EVENTS_VISIBLE_IN_SQL = f"""
    SELECT id, xact_id, type, product_id, payload, created_at FROM {TABLE}
     WHERE pg_visible_in_snapshot(xact_id::text::xid8, %(snapshot)s::pg_snapshot)
       AND (xact_id, id) > (%(xact_id)s, %(id)s)
     ORDER BY xact_id, id LIMIT %(limit)s
"""


def events_visible_in(snapshot_text, after, limit, using="default"):
    """Return up to ``limit`` events ``snapshot_text`` saw, after ``after`` = (xact_id, id), in that order."""
    xact_id, event_id = after
    params = {"snapshot": snapshot_text, "xact_id": xact_id, "id": event_id, "limit": limit}
    return fetch_dicts(EVENTS_VISIBLE_IN_SQL, params, using)


def start(position, snapshot_text, confirmed, *, caught_up=False):
    """Make a consumer's ``position`` go on from ``snapshot_text``: what it saw (unless ``caught_up``), then the slot.

    ``position`` has the fields ``snapshot``, ``caught_up``, ``lsn``, ``last_xact_id``,
    ``last_event_id`` and ``highest_event_id`` (the worker's and each relay's). ``confirmed``
    is the slot's LSN, read before the snapshot was taken (``ensure_slot``): the commits at
    or below it are in the snapshot, and the slot will not hand them over.
    """
    position.snapshot = snapshot_text
    position.caught_up = caught_up
    position.lsn = max(position.lsn, confirmed)


@dataclass
class Step:
    """What ``next_events`` found for a consumer: the events to apply, in order, and where to acknowledge to."""

    events: list  # dicts: the event table's columns (as text when from the slot)
    acknowledge: int | None  # the LSN to advance the slot to after the commit; None: nothing
    catching_up: bool  # the events came from the snapshot: there may be more at once

    @property
    def moved(self):
        """Whether the position changed, so the consumer stores it (and may read again at once)."""
        return self.catching_up or self.acknowledge is not None


def next_events(slot, position, confirmed, limit, *, remedy, using="default"):
    """Return the next ``Step`` of a consumer at ``position`` (see ``start``), and move ``position`` past it.

    The caller holds ``position`` locked in a transaction, applies or publishes the events,
    stores ``position`` in that transaction when ``step.moved``, and only after the commit
    ``acknowledge``s ``step.acknowledge``. While catching up, the events its snapshot saw come
    from the table in (xact_id, id) order after (``last_xact_id``, ``last_event_id``); then the
    slot's transactions, but those at or below ``position.lsn`` (read before a crash kept the
    slot from moving) and those the snapshot saw. ``confirmed``: the slot's LSN now; beyond
    the position's, the slot was dropped and created again, and ``remedy`` says what to do.
    """
    if confirmed > position.lsn:
        raise FeedUnavailable(
            f"The replication slot {slot} is newer than its consumer's position: it was dropped and created "
            f"again, and the events committed in between were never read. {remedy}"
        )
    if not position.caught_up:
        records = events_visible_in(position.snapshot, (position.last_xact_id, position.last_event_id), limit, using)
        if records:
            position.last_xact_id, position.last_event_id = records[-1]["xact_id"], records[-1]["id"]
        position.caught_up = len(records) < limit
        step = Step(records, None, catching_up=True)
    else:
        batch = read(slot, changes=limit, using=using)
        records = [
            event
            for committed in batch.transactions
            if committed.end_lsn > position.lsn
            for event in committed.events
            if not visible_in(position.snapshot, int(event["xact_id"]))
        ]
        if batch.ack_lsn is not None:  # skipped transactions too: the slot moves past them
            position.lsn = max(position.lsn, batch.ack_lsn)
        step = Step(records, batch.ack_lsn, catching_up=False)
    if records:
        position.highest_event_id = max(position.highest_event_id, *(int(record["id"]) for record in records))
    return step


def read(slot, changes=5000, using="default"):
    """Return the next committed transactions in ``slot`` (about ``changes`` rows of output), without consuming them.

    Whole transactions only: the server checks the limit after each commit. An idle slot
    far behind the WAL (other tables' writes) gets a heartbeat message, so acknowledging it
    lets the server recycle that WAL.
    """
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT set_config('logical_decoding_work_mem', %s, false)", [DECODING_WORK_MEM])
        try:
            cursor.execute(_PEEK_SQL, {"slot": slot, "changes": changes, "publication": PUBLICATION})
        except Exception as error:
            if "does not exist" in str(error) and not slot_exists(slot, using):
                raise FeedUnavailable(missing(slot)) from error
            raise
        rows = cursor.fetchall()
    batch = _decode(bytes(data) for (data,) in rows)
    if batch.ack_lsn is None:
        _heartbeat_if_behind(slot, using)
    return batch


def acknowledge(slot, lsn, using="default"):
    """Move ``slot`` past ``lsn``: call it once what was read up to there is applied and committed."""
    with connections[using].cursor() as cursor:
        cursor.execute(_ADVANCE_SQL, {"slot": slot, "lsn": lsn_text(lsn)})
        if connections[using].pg_version >= 160000:
            cursor.execute(_MOVE_RESTART_POINT_SQL, {"slot": slot, "bytes": RESTART_BYTES})


# Never below where the slot already is (another consumer of it may have moved it on): the
# server refuses to move a slot back.
_ADVANCE_SQL = """
    SELECT pg_replication_slot_advance(slot_name, greatest(%(lsn)s::pg_lsn, confirmed_flush_lsn))
      FROM pg_replication_slots WHERE slot_name = %(slot)s
"""


# Each read decodes the WAL again from the slot's restart point, which PostgreSQL moves only
# at a running-transactions record (logged about every 15 s). From PostgreSQL 16 on, a user
# allowed to may log one: when the restart point is this far behind, the next reads find it
# and the next acknowledgement moves the restart point up to it.
RESTART_BYTES = 16 << 20
_MOVE_RESTART_POINT_SQL = """
    SELECT pg_log_standby_snapshot() FROM pg_replication_slots
     WHERE slot_name = %(slot)s AND pg_current_wal_lsn() - restart_lsn > %(bytes)s
       AND has_function_privilege('pg_log_standby_snapshot()', 'EXECUTE')
"""


def bytes_behind(slot, using="default"):
    """Return how many bytes of WAL ``slot`` has not acknowledged, or None when it does not exist."""
    return slots_bytes_behind([slot], using).get(slot)


def slots_bytes_behind(slots, using="default"):
    """Return ``{slot: bytes of WAL it has not acknowledged}`` for those of ``slots`` that exist: one query."""
    return {row["slot"]: row["behind"] for row in fetch_dicts(SLOTS_BEHIND_SQL, [list(slots)], using)}


def missing(slot):
    """Return what to do about a consumer's slot that does not exist."""
    return (
        f"The event feed's replication slot {slot} does not exist: its consumer creates it when it first "
        "starts (`manage.py project_events --follow`); if it had one, rebuild its store "
        "(`manage.py rebuild_read_models`), which goes on from a new one."
    )


def _heartbeat_if_behind(slot, using):
    behind = bytes_behind(slot, using)
    if behind and behind > HEARTBEAT_BYTES:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT pg_logical_emit_message(true, %s, '')", [HEARTBEAT_PREFIX])


# pgoutput's logical replication protocol, version 1: the messages a publication of inserts sends.
# https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html
def _decode(messages):
    relations, transactions, current, ack = {}, [], None, None
    for data in messages:
        kind = data[:1]
        if kind == b"B":
            current = Transaction(end_lsn=0)
        elif kind == b"R":
            oid, columns = _relation(data)
            relations[oid] = columns
        elif kind == b"I":
            (oid,) = struct.unpack_from("!I", data, 1)
            current.events.append(dict(zip(relations[oid], _tuple(data, 6), strict=True)))
        elif kind == b"C":  # a heartbeat's transaction too: its commit moves the slot along
            _flags, _commit_lsn, end_lsn = struct.unpack_from("!bQQ", data, 1)
            current.end_lsn = ack = end_lsn
            if current.events:
                transactions.append(current)
            current = None
    return Batch(transactions, ack)


def _cstring(data, offset):
    end = data.index(b"\0", offset)
    return data[offset:end].decode(), end + 1


def _relation(data):
    (oid,) = struct.unpack_from("!I", data, 1)
    _namespace, offset = _cstring(data, 5)
    _name, offset = _cstring(data, offset)
    (count,) = struct.unpack_from("!H", data, offset + 1)  # after the replica identity byte
    offset += 3
    columns = []
    for _ in range(count):
        name, offset = _cstring(data, offset + 1)  # after the flags byte
        offset += 8  # type oid, type modifier
        columns.append(name)
    return oid, columns


def _tuple(data, offset):
    (count,) = struct.unpack_from("!H", data, offset)
    offset += 2
    values = []
    for _ in range(count):
        kind = data[offset : offset + 1]
        offset += 1
        if kind == b"t":
            (length,) = struct.unpack_from("!I", data, offset)
            values.append(data[offset + 4 : offset + 4 + length].decode())
            offset += 4 + length
        else:  # "n": null ("u", an unchanged TOAST value, comes with updates only)
            values.append(None)
    return values

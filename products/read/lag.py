"""How far the split-mode read store is behind the event log: what readiness and ``projection_lag`` report.

Free of any framework, like ``statement.py``: the Django side (``products.read.worker.lag``,
``/health/ready``, ``manage.py projection_lag``) and the read API's ``/health/ready`` run these
statements and shape their answer with ``report``, so the two services say the same thing.
"""

PROJECTOR_POSITION = "read_store"  # the worker's row in read_projector_position (ProjectorPosition)
PROJECTOR_CONSUMER = "projector"  # its name in the event feed: its slot's (``products.events.feed.slot_for``)

# On the read store: the highest event id the worker applied (no row: nothing yet).
APPLIED_SQL = "SELECT highest_event_id FROM read_projector_position WHERE name = %s"

# On the write database: the log's newest event, and the events after the one applied.
LOG_SQL = """
    SELECT (SELECT coalesce(max(id), 0) FROM products_event) AS latest_event_id,
           count(*) AS events_behind, min(created_at) AS oldest_pending_at
      FROM products_event WHERE id > %s
"""


def report(applied, log, slot, bytes_behind, now):
    """Return the lag: events, seconds and bytes of WAL behind.

    ``applied``: the highest event id applied (0: none); ``log``: the row of ``LOG_SQL`` for it;
    ``bytes_behind``: the WAL ``slot`` has not acknowledged (None: no slot yet); ``now``: an
    aware datetime. Events behind are those with a higher id than any applied (a transaction
    that commits after a later-started one may also be behind with a lower id: a close count,
    not an exact one).
    """
    oldest = log["oldest_pending_at"]
    return {
        "last_applied_event_id": applied,
        "latest_event_id": log["latest_event_id"],
        "events_behind": log["events_behind"],
        "seconds_behind": round((now - oldest).total_seconds(), 3) if oldest else 0.0,
        "slot": slot,
        "bytes_behind": bytes_behind,
    }

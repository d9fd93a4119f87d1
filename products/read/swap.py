"""Build a read table beside the live one, then swap it in: the DDL of a rebuild by swap.

``create`` makes an empty ``<table>__new`` shaped like the live table (columns, NOT NULL,
defaults, CHECKs; no index), so it fills at the speed of a bare insert. ``add_indexes``
then gives it every index and key constraint the live table has, read from the catalog
(``pg_index``, ``pg_get_indexdef``, ``pg_get_constraintdef``), so nothing is listed twice
and an index a later migration adds is rebuilt too. ``swap`` locks the live tables, drops
them and renames the new tables, their indexes and constraints to the canonical names, so
Django's migrations still find them. Everything here runs in the caller's transaction.
"""

import re

from django.db import OperationalError, transaction

SUFFIX = "__new"
LOCK_TIMEOUT = "500ms"  # how long one attempt to lock the live tables may queue readers behind it
_RETRIED = {"55P03", "40P01"}  # lock_not_available (the timeout), deadlock_detected

# pg_get_indexdef: CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING method (...) [...]
_INDEX_DEFINITION = re.compile(r"^(CREATE (?:UNIQUE )?INDEX) \S+ ON (?:ONLY )?\S+ (USING .*)$", re.DOTALL)

_INDEXES_SQL = """
    SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition,
           pg_get_constraintdef(k.oid) AS constraint_definition
      FROM pg_index i
      JOIN pg_class ic ON ic.oid = i.indexrelid
      LEFT JOIN pg_constraint k
             ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')
     WHERE i.indrelid = %s::regclass
     ORDER BY ic.relname
"""

# Constraints without an index (CHECK; NOT NULL from PostgreSQL 18) that LIKE copied under
# another name: matched to the live table's by kind and definition.
_RENAMED_CONSTRAINTS_SQL = """
    SELECT DISTINCT ON (n.conname) n.conname, o.conname
      FROM pg_constraint o
      JOIN pg_constraint n ON n.conrelid = %(new)s::regclass AND n.contype = o.contype
                          AND pg_get_constraintdef(n.oid) = pg_get_constraintdef(o.oid)
     WHERE o.conrelid = %(live)s::regclass AND o.conindid = 0 AND n.conname <> o.conname
"""


def shadow(name, suffix=SUFFIX):
    """Return the name of the stand-in of table or index ``name`` (within PostgreSQL's 63 bytes)."""
    return name[: 63 - len(suffix)] + suffix


def create(cursor, live):
    """Create the empty, unindexed ``shadow(live)`` with the live table's columns and CHECKs."""
    new = shadow(live)
    cursor.execute(f"DROP TABLE IF EXISTS {new}")
    cursor.execute(f"CREATE TABLE {new} (LIKE {live} INCLUDING ALL EXCLUDING INDEXES)")
    cursor.execute(_RENAMED_CONSTRAINTS_SQL, {"new": new, "live": live})
    for copied, canonical in cursor.fetchall():
        cursor.execute(f"ALTER TABLE {new} RENAME CONSTRAINT {copied} TO {canonical}")
    return new


def add_indexes(cursor, live):
    """Give ``shadow(live)`` every index and key constraint of ``live``; return their names."""
    new = shadow(live)
    cursor.execute(_INDEXES_SQL, [live])
    names = []
    for name, definition, constraint in cursor.fetchall():
        if constraint:  # a primary key or unique constraint: its index comes with it
            cursor.execute(f"ALTER TABLE {new} ADD CONSTRAINT {shadow(name)} {constraint}")
        else:
            head, tail = _INDEX_DEFINITION.match(definition).groups()
            cursor.execute(f"{head} {shadow(name)} ON {new} {tail}")
        names.append(name)
    return names


def lock(cursor, tables, using, attempts=None):
    """Lock ``tables`` ACCESS EXCLUSIVE, each attempt queueing readers for at most LOCK_TIMEOUT.

    An attempt that times out (a long reader holds the old rows) is rolled back to its
    savepoint and tried again, so new readers never wait long behind the pending lock.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            with transaction.atomic(using=using):
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [LOCK_TIMEOUT])
                cursor.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
        except OperationalError as error:
            if getattr(error.__cause__, "pgcode", None) not in _RETRIED or attempt == attempts:
                raise
            continue
        cursor.execute("SELECT set_config('lock_timeout', '0', true)")
        return attempt


def swap(cursor, indexes, using, attempts=None):
    """Replace each live table of ``indexes`` (table -> its index names) by its shadow; return the lock attempts."""
    attempts = lock(cursor, indexes, using, attempts)
    cursor.execute(f"DROP TABLE {', '.join(indexes)}")
    for live, names in indexes.items():
        cursor.execute(f"ALTER TABLE {shadow(live)} RENAME TO {live}")
        for name in names:  # renaming a key's index renames its constraint too
            cursor.execute(f"ALTER INDEX {shadow(name)} RENAME TO {name}")
    return attempts

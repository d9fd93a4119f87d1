"""One mode per deployment: the write database records the mode it serves; every process compares.

Single-database mode projects the read tables inside each command's transaction, in the write
database; split mode leaves them to a worker that feeds a separate read database from the
event log. A process of either mode writes the same write tables, so two processes of one
write database in different modes (or split mode with different read databases) would each
read a store the other's writes never reach. The write database therefore records its mode
(``products_deployment``, one row): the first process that checks records its own, every
later one compares with it, and a process that disagrees is told which setting to change
(``READ_DATABASE_URL``) or how to switch the whole deployment (``manage.py deployment_mode``).

A read database is known by what PostgreSQL says of it (its cluster's system identifier and
its name), so another host name or port for the same database still agrees, and a new
database under an old name on the same server is the same read store: the worker refills it
from the log.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction

SETTING = "READ_DATABASE_URL"

_RECORDED_SQL = "SELECT mode, read_store, read_store_label FROM products_deployment WHERE id = 1"
_RECORD_FIRST_SQL = """
    INSERT INTO products_deployment (id, mode, read_store, read_store_label, recorded_at)
    VALUES (1, %s, %s, %s, now()) ON CONFLICT (id) DO NOTHING
"""
_RECORD_SQL = """
    INSERT INTO products_deployment (id, mode, read_store, read_store_label, recorded_at)
    VALUES (1, %s, %s, %s, now())
    ON CONFLICT (id) DO UPDATE SET mode = excluded.mode, read_store = excluded.read_store,
                                   read_store_label = excluded.read_store_label, recorded_at = excluded.recorded_at
"""
_IDENTITY_SQL = "SELECT system_identifier::text || '/' || current_database() FROM pg_control_system()"


class ModeMismatch(Exception):
    """This process's settings disagree with the mode of its write database; the message says what to change."""

    setting = SETTING


@dataclass(frozen=True)
class Mode:
    mode: str  # "single" or "split"
    read_store: str = ""  # split mode: the read database's identity
    read_store_label: str = ""  # split mode: its name and address, for people

    def __str__(self):
        if self.mode == "single":
            return "single-database mode"
        return f"split mode, feeding the read database {self.read_store_label}"


def _label(alias):
    database = connections[alias].settings_dict
    port = f":{database['PORT']}" if database["PORT"] else ""
    return f"{database['NAME']} on {database['HOST'] or 'localhost'}{port}"


def this_process():
    """Return the mode this process's settings give; in split mode one query asks the read database who it is."""
    if settings.CQRS_MODE != "split":
        return Mode("single")
    with connections["read"].cursor() as cursor:
        cursor.execute(_IDENTITY_SQL)
        [identity] = cursor.fetchone()
    return Mode("split", identity, _label("read"))


def recorded():
    """Return the mode the write database records, or None when no process has recorded one yet."""
    with connections["default"].cursor() as cursor:
        cursor.execute(_RECORDED_SQL)
        row = cursor.fetchone()
    return Mode(*row) if row else None


def _mismatch(deployment, mine):
    """Return what to change when ``mine`` disagrees with the ``deployment``'s mode, else None."""
    if deployment.mode == mine.mode and deployment.read_store == mine.read_store:
        return None
    if mine.mode == "single":
        return (
            f"This write database feeds the read database {deployment.read_store_label} (split mode), and this "
            f"process has no {SETTING}, so it would read tables no write reaches: set {SETTING} to that database, "
            "as every API process of this deployment has it, or switch the whole deployment to single-database "
            "mode with `manage.py deployment_mode --set single`."
        )
    if deployment.mode == "single":
        return (
            f"This write database serves single-database mode (its read tables beside its write tables), and "
            f"this process has {SETTING} set (the read database {mine.read_store_label}), so it would read tables "
            f"no write reaches: unset {SETTING}, or switch the whole deployment to split mode with "
            f"`manage.py deployment_mode --set split` run with this {SETTING}."
        )
    return (
        f"This write database feeds the read database {deployment.read_store_label}, not "
        f"{mine.read_store_label}, which {SETTING} names here: set {SETTING} to "
        f"{deployment.read_store_label}, or move the whole deployment to this read database with "
        f"`manage.py deployment_mode --set split` run with this {SETTING}."
    )


def check():
    """Return the deployment's mode once this process agrees with it; raise ``ModeMismatch`` otherwise.

    When no mode is recorded yet, this process's is: a fresh deployment needs no step of its own.
    The row is inserted only if it is still absent, so of two first processes one records and
    the other compares. Costs one query per database once recorded.
    """
    mine = this_process()
    deployment = recorded()
    if deployment is None:
        with connections["default"].cursor() as cursor:
            cursor.execute(_RECORD_FIRST_SQL, [mine.mode, mine.read_store, mine.read_store_label])
        deployment = recorded()
    problem = _mismatch(deployment, mine)
    if problem:
        raise ModeMismatch(problem)
    return deployment


def is_recordable():
    """Return whether the write database has the table of its mode (False until its migrations are applied)."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT to_regclass('products_deployment') IS NOT NULL")
        return cursor.fetchone()[0]


def switch(mode):
    """Record ``mode``, the mode of this process's settings, as the deployment's; return the one it replaces."""
    mine = this_process()
    if mine.mode != mode:
        change = f"set {SETTING} to the read database to feed" if mode == "split" else f"unset {SETTING}"
        raise ModeMismatch(
            f"--set {mode} records the mode of this process's settings, which give {mine}: {change}, then run it again."
        )
    if mode == "single":
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT to_regclass('read_product') IS NOT NULL")
            if not cursor.fetchone()[0]:
                raise ModeMismatch(
                    "This write database has no read tables (it was migrated in split mode), so it cannot serve "
                    f"single-database mode: keep {SETTING} set."
                )
    with transaction.atomic(using="default"):
        previous = recorded()
        with connections["default"].cursor() as cursor:
            cursor.execute(_RECORD_SQL, [mine.mode, mine.read_store, mine.read_store_label])
    return previous

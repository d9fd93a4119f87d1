"""A read is one round trip: the statement, with no reset query sent when the connection goes back to the pool."""

import asyncio

import asyncpg
import httpx

from products.readapi.app import create_app
from products.tests.readapi.conftest import conninfo


async def _last_statement_after_a_read(config):
    application = create_app(config)
    databases = application.fastapi.state.databases  # httpx's transport runs no lifespan
    await databases.open()
    try:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await client.get("/api/products/")).status_code == 200
        async with databases.read.acquire() as connection:  # the pool's only connection: the one that read
            pid = connection.get_server_pid()
        observer = await asyncpg.connect(conninfo("default"))
        try:
            return await observer.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
        finally:
            await observer.close()
    finally:
        await databases.close()


def test_a_read_sends_its_statement_and_no_reset_query_after_it(read_api):
    config = read_api(pool_max=1).config
    last = asyncio.run(_last_statement_after_a_read(config))
    # asyncpg's default pool would have sent "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    # RESET ALL;" on release: a second round trip per request.
    assert "FROM read_product" in last
    assert "RESET ALL" not in last

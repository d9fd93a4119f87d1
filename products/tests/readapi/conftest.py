"""The read API against the test database: its application, called through httpx's ASGI transport."""

import asyncio
from urllib.parse import quote, urlencode

import httpx
import pytest
from django.db import connections

from cqrs_demo.routers import read_store_alias
from products.readapi.app import create_app
from products.readapi.config import Config


def conninfo(alias):
    """Return the URL of the test database of ``alias`` (its host may be a socket folder)."""
    settings = connections[alias].settings_dict
    credentials = quote(settings["USER"] or "postgres") + (
        f":{quote(settings['PASSWORD'])}" if settings["PASSWORD"] else ""
    )
    query = {"host": settings["HOST"]} if settings["HOST"].startswith("/") else {}
    netloc = "" if query else f"{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    if query and settings["PORT"]:
        query["port"] = settings["PORT"]
    return f"postgresql://{credentials}@{netloc}/{quote(settings['NAME'])}" + (f"?{urlencode(query)}" if query else "")


def database_config(**overrides):
    return Config(read_url=conninfo(read_store_alias()), write_url=conninfo("default"), **overrides)


class ReadApi:
    """Send GETs to a read API: each batch to a new application in its own event loop, pools open meanwhile."""

    def __init__(self, config):
        self.config = config

    async def _get_all(self, paths, headers):
        application = create_app(self.config)
        databases = application.fastapi.state.databases  # httpx's transport runs no lifespan
        await databases.open()
        try:
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return [await client.get(path, headers=headers) for path in paths]
        finally:
            await databases.close()

    def get_all(self, paths, headers=None):
        return asyncio.run(self._get_all(paths, headers or {}))

    def get(self, path, headers=None):
        return self.get_all([path], headers)[0]


@pytest.fixture
def read_api(transactional_db):
    """Return a factory of read APIs on the test database (settings as keyword arguments)."""
    return lambda **overrides: ReadApi(database_config(**overrides))

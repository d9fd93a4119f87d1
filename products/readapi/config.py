"""The read API's settings, from the environment (see the README's "The read API")."""

import os
from dataclasses import dataclass

from cqrs_demo.env import env_bool, env_int, env_str


def _float(name, default):
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class Config:
    read_url: str  # the read tables
    write_url: str  # the event log and the API tokens (the same database in single mode)
    reads_require_auth: bool = False
    pool_min: int = 0
    pool_max: int = 10
    pool_timeout: float = 3.0  # seconds a request waits for a connection before its 503
    statement_timeout_ms: int = 10_000

    @classmethod
    def from_env(cls):
        """Read tables from READ_DATABASE_URL, else DATABASE_URL, else the embedded server scripts/serve uses."""
        write_url = env_str("DATABASE_URL")
        if not write_url:
            from cqrs_demo.embedded_db import database_url

            write_url = database_url()
        return cls(
            read_url=env_str("READ_DATABASE_URL") or write_url,
            write_url=write_url,
            reads_require_auth=env_bool("API_READS_REQUIRE_AUTH", False),
            pool_min=env_int("READ_API_POOL_MIN", 0),
            pool_max=env_int("READ_API_POOL_MAX", 10),
            pool_timeout=_float("READ_API_POOL_TIMEOUT", 3.0),
            statement_timeout_ms=env_int("READ_API_STATEMENT_TIMEOUT_MS", 10_000),
        )

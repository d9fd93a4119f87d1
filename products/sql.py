"""Run raw SQL and get rows back as dicts: the one helper both sides use for hand-written SQL."""

from django.db import connections


def fetch_dicts(sql, params=(), using="default"):
    """Run ``sql`` on the database ``using`` and return its rows as dicts keyed by column name."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

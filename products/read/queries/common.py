"""What the queries of keyed aggregates (categories, locations) share: one row by key, a page by key."""

from products.read.pagination import keyset_statement
from products.read.statement import Statement, one_row


def one_by_key(table, value, not_found, message):
    """Return the statement of the API row of ``table`` whose key is ``value`` (``not_found(message)`` when none)."""
    return Statement(f"{table.api_select()} WHERE {table.key} = %s", [value], one_row(not_found, message))


def page_by_key(table, query):
    """Return the statement of one keyset page of ``table``'s API rows ordered by its key."""
    return keyset_statement(
        table.api_select(),
        [],
        [],
        table=table.name,
        ordering=table.key,
        key=table.key,
        id_key=table.key,
        id_type=table.key_type,
        column_type=table.key_type,
        descending=False,
        page_size=query.page_size,
        cursor=query.cursor,
    )

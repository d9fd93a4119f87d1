"""What the queries of keyed aggregates (categories, locations) share: one row by key, a page by key."""

from cqrs_demo.routers import read_query_alias
from products.read.pagination import keyset_page
from products.sql import fetch_dicts


def one_by_key(table, value, not_found):
    """Return the API row of ``table`` whose key is ``value``; raise ``not_found`` when there is none."""
    rows = fetch_dicts(f"{table.api_select()} WHERE {table.key} = %s", [value], read_query_alias())
    if not rows:
        raise not_found
    return rows[0]


def page_by_key(table, query):
    """Return one keyset page of ``table``'s API rows ordered by its key."""
    return keyset_page(
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

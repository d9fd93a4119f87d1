"""The query of a product's history from the event log, and the page of a product's rows it shares with the ledger."""

from dataclasses import dataclass
from uuid import UUID

import orjson

from cqrs_demo.bus import Query
from products.errors import ProductNotFoundError
from products.read.pagination import DEFAULT_PAGE_SIZE, keyset_statement
from products.read.statement import READ_STORE, WRITE_STORE


@dataclass(frozen=True)
class ListProductEvents(Query):
    product_id: UUID
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


def product_rows_page(select, table, query, *, descending, store=READ_STORE):
    """Return the statement of one page of a product's rows (ledger or events), keyset-paginated by id.

    Every product has at least one such row (its opening ledger row, its ProductCreated
    event), so an empty first page means the product is unknown: one query, not two.
    """

    def known(page):
        if not page.results and query.cursor is None:
            raise ProductNotFoundError("Product not found.")
        return page

    return keyset_statement(
        select,
        ["product_id = %s"],
        [UUID(str(query.product_id))],  # one spelling of the id, so one list key for its cursors
        table=table,
        ordering="-id" if descending else "id",
        key="id",
        id_key="id",
        id_type="bigint",
        column_type="bigint",
        descending=descending,
        page_size=query.page_size,
        cursor=query.cursor,
        store=store,
    ).then(known)


def list_product_events(query):
    """Return the statement of one page of a product's event history, oldest first, archived products included.

    The one query not served by a read table: the event log is itself an append-only record
    made for reading in order, and it is the audit trail, so it is read where it is written.
    """

    def parse_data(page):
        for row in page.results:
            row["data"] = orjson.loads(row["data"])  # jsonb comes as text (products.read.statement)
        return page

    return product_rows_page(
        "SELECT id, type, created_at AS occurred_at, payload AS data FROM products_event",
        "products_event",
        query,
        descending=False,
        store=WRITE_STORE,
    ).then(parse_data)


STATEMENTS = {ListProductEvents: list_product_events}

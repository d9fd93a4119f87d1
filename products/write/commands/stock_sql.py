"""SQL the statements of stock changes share: a stock event's payload, and the StockLow they append.

Used by the stock commands' statement (``products.write.commands.stock``) and by the
reservations' (``products.write.commands.reservation_sql``).
"""

from products.read.tables import MOVEMENTS, PRODUCTS, held

# What a product has reserved, over its locations, as a statement of a stock command sees it.
HELD_BY_PRODUCT = held("p.id", side="write")


def stock_low_step(taken, available):
    """Return a step appending StockLow for each product a change took from above its reorder point to or below it.

    ``taken`` is a SELECT of (``product_id``, ``taken``, ...) rows, as ``t``; ``available`` the
    product's available after the change, over ``t`` and the product row ``p``.
    """
    return f"""
        INSERT INTO products_event (type, product_id, payload, created_at)
        SELECT 'StockLow', p.id, jsonb_build_object(
                   'product_id', p.id::text, 'available', a.available, 'reorder_point', p.reorder_point), %(now)s
          FROM ({taken}) t JOIN products_product p ON p.id = t.product_id
         CROSS JOIN LATERAL (SELECT {available} AS available) a
         WHERE a.available <= p.reorder_point AND a.available + t.taken > p.reorder_point"""


def stock_event_payload(state, ledger):
    """Return the SQL payload of a stock event: its fields, the product's read row ``state``, its ledger row's."""
    return (
        f"jsonb_build_object('product_id', {state}.id::text, 'movement_id', {ledger}.id, 'location', {ledger}.location,"
        f" 'delta', {ledger}.delta, 'quantity', {state}.quantity, 'product', {PRODUCTS.api_json(state)},"
        f" 'movement', {MOVEMENTS.api_json(ledger)})"
    )

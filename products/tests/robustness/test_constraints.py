"""The database itself refuses what the code promises never to write, so a bug in a handler
(or a hand-written UPDATE) cannot leave negative stock, a negative price or reorder point, a
duplicate SKU or two stock rows for one product at one location."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from products.write.models import MAX_QUANTITY

pytestmark = pytest.mark.django_db

MAIN_ID = "(SELECT id FROM products_location WHERE code = 'main')"

VIOLATIONS = {
    "negative stock": "UPDATE products_stocklevel SET quantity = -1 WHERE product_id = %(id)s",
    "stock above the maximum": (
        f"UPDATE products_stocklevel SET quantity = {MAX_QUANTITY + 1} WHERE product_id = %(id)s"
    ),
    "negative price": "UPDATE products_product SET price = -1 WHERE id = %(id)s",
    "version below 1": "UPDATE products_product SET version = 0 WHERE id = %(id)s",
    "ledger row with negative quantity_after": (
        "INSERT INTO products_stockmovement (product_id, location_id, delta, quantity_after, reason, created_at)"
        f" VALUES (%(id)s, {MAIN_ID}, -1, -1, '', now())"
    ),
    "negative reorder point": "UPDATE products_product SET reorder_point = -1 WHERE id = %(id)s",
    "a second stock row at one location": (
        f"INSERT INTO products_stocklevel (product_id, location_id, quantity) VALUES (%(id)s, {MAIN_ID}, 1)"
    ),
    "sku differing only in case": (
        "INSERT INTO products_product (id, sku, name, description, price, reorder_point, version, is_archived,"
        " created_at, updated_at) VALUES (%(new_id)s, 'case-sku-1', 'Copy', '', 1, 0, 1, false, %(now)s, %(now)s)"
    ),
    "sku of an archived product": (
        "INSERT INTO products_product (id, sku, name, description, price, reorder_point, version, is_archived,"
        " created_at, updated_at) VALUES (%(new_id)s, 'GONE-1', 'Copy', '', 1, 0, 1, false, %(now)s, %(now)s)"
    ),
}


@pytest.mark.parametrize("sql", VIOLATIONS.values(), ids=VIOLATIONS.keys())
def test_database_refuses_rows_that_break_an_invariant(sql, make_product, archived_product, snapshot):
    product_id = make_product(sku="CASE-SKU-1", initial_stock=3)
    params = {"id": product_id, "new_id": uuid.uuid4(), "now": timezone.now()}
    before = snapshot()

    with pytest.raises(IntegrityError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert "null value" not in str(refused.value)  # refused by the rule, not for a missing column

    # The refused statement rolled back to its savepoint, and the transaction goes on.
    assert snapshot() == before

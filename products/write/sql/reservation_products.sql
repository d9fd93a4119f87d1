-- The products and locations of a reservation, for their locks (its lines never change).
SELECT product_id, location_id FROM products_reservationline WHERE reservation_id = %(id)s

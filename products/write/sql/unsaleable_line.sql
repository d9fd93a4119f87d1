-- The first line of a reservation that cannot be sold now: its product archived (those
-- first), or its location inactive (it takes no stock: products.write.rules.takes_stock).
SELECT rl.product_id, p.is_archived AS archived, l.code AS location
  FROM products_reservationline rl JOIN products_product p ON p.id = rl.product_id
  JOIN products_location l ON l.id = rl.location_id
 WHERE rl.reservation_id = %(id)s AND (p.is_archived OR NOT l.is_active)
 ORDER BY p.is_archived DESC, rl.id LIMIT 1

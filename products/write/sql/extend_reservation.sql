-- ExtendReservation: hold an active reservation's stock until expires_in seconds from now,
-- by the clock as the statement runs (after its products' locks). No row back: not active.
WITH extended AS (
    UPDATE products_reservation
       SET expires_at = clock_timestamp() + make_interval(secs => %(expires_in)s),
           version = version + 1, updated_at = %(now)s
     WHERE id = %(id)s AND status = 'active' AND expires_at > clock_timestamp()
    RETURNING id, expires_at
)
UPDATE products_reservationline rl SET held_until = extended.expires_at
  FROM extended WHERE rl.reservation_id = extended.id
RETURNING rl.id

-- ExpireReservations: record up to limit active reservations whose time is up as expired,
-- oldest first, and end their lines' holds. Ones another transaction is ending are skipped
-- (it decides), so two runs never wait for each other.
WITH lapsed AS (
    SELECT id FROM products_reservation
     WHERE status = 'active' AND expires_at <= clock_timestamp()
     ORDER BY expires_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), expired AS (
    UPDATE products_reservation r SET status = 'expired', version = version + 1, updated_at = %(now)s
      FROM lapsed WHERE r.id = lapsed.id
    RETURNING r.id, r.expires_at
), tidied AS (
    UPDATE products_reservationline rl SET held_until = NULL FROM expired WHERE rl.reservation_id = expired.id
)
SELECT id FROM expired ORDER BY expires_at, id

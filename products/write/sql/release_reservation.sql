-- ReleaseReservation: end an active reservation whose time is not up, and its holds.
-- No row back: it was not active (the handler says why).
WITH released AS (
    UPDATE products_reservation SET status = 'released', version = version + 1, updated_at = %(now)s
     WHERE id = %(id)s AND status = 'active' AND expires_at > clock_timestamp()
    RETURNING id
)
UPDATE products_reservationline rl SET held_until = NULL FROM released WHERE rl.reservation_id = released.id
RETURNING rl.id

-- Why a reservation could not change: its status, and whether its time is still running.
SELECT status, expires_at > clock_timestamp() AS running FROM products_reservation WHERE id = %(id)s

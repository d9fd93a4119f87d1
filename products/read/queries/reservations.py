"""Queries of reservations: one reservation, a page of them (newest first, by status and reference)."""

from dataclasses import dataclass
from uuid import UUID

from cqrs_demo.bus import Query
from cqrs_demo.routers import read_query_alias
from products.errors import ReservationNotFoundError
from products.read.pagination import DEFAULT_PAGE_SIZE, keyset_page
from products.read.tables import RESERVATIONS, shown_reservation
from products.sql import fetch_dicts

_SELECT = RESERVATIONS.api_select()

# The status a read shows (see tables.SHOWN_STATUS), as a filter the indexes can serve.
STATUS_FILTERS = {
    "active": "status = 'active' AND expires_at > now()",
    "expired": "(status = 'expired' OR status = 'active' AND expires_at <= now())",
    "committed": "status = 'committed'",
    "released": "status = 'released'",
}


@dataclass(frozen=True)
class GetReservation(Query):
    reservation_id: UUID


@dataclass(frozen=True)
class ListReservations(Query):
    status: str | None = None  # one of STATUS_FILTERS
    reference: str | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None


def get_reservation(query):
    """Return a reservation as the API shows it."""
    rows = fetch_dicts(f"{_SELECT} WHERE id = %s", [query.reservation_id], read_query_alias())
    if not rows:
        raise ReservationNotFoundError("Reservation not found.")
    return shown_reservation(rows[0])


def list_reservations(query):
    """Return one page of reservations, newest first."""
    where, params = [], []
    if query.status is not None:
        where.append(STATUS_FILTERS[query.status])
    if query.reference is not None:
        where.append("reference = %s")
        params.append(query.reference)
    page = keyset_page(
        _SELECT,
        where,
        params,
        table=RESERVATIONS.name,
        ordering="-created_at",
        key="created_at",
        id_key="id",
        id_type="uuid",
        column_type="timestamptz",
        descending=True,
        page_size=query.page_size,
        cursor=query.cursor,
    )
    for row in page.results:
        shown_reservation(row)
    return page


HANDLERS = {
    GetReservation: get_reservation,
    ListReservations: list_reservations,
}

"""Queries of reservations: one reservation, a page of them (newest first, by status and reference)."""

from dataclasses import dataclass
from uuid import UUID

from cqrs_demo.bus import Query
from products.errors import ReservationNotFoundError
from products.read.pagination import DEFAULT_PAGE_SIZE, keyset_statement
from products.read.statement import Statement, one_row
from products.read.tables import RESERVATIONS, shown_reservation

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
    """Return the statement of a reservation as the API shows it."""
    found = one_row(ReservationNotFoundError, "Reservation not found.")
    return Statement(f"{_SELECT} WHERE id = %s", [query.reservation_id], found).then(shown_reservation)


def list_reservations(query):
    """Return the statement of one page of reservations, newest first."""
    where, params = [], []
    if query.status is not None:
        where.append(STATUS_FILTERS[query.status])
    if query.reference is not None:
        where.append("reference = %s")
        params.append(query.reference)

    def shown(page):
        for row in page.results:
            shown_reservation(row)
        return page

    return keyset_statement(
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
    ).then(shown)


STATEMENTS = {
    GetReservation: get_reservation,
    ListReservations: list_reservations,
}

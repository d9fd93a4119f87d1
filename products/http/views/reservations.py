"""The reservations endpoints: hold stock during checkout (place), then commit, release or extend; read them."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cqrs_demo.bus import bus
from products.http import serializers
from products.http.idempotency import idempotent
from products.http.views.common import (
    IDEMPOTENCY_KEY,
    INVALID,
    POST_ERRORS,
    UUID_PATH,
    created,
    created_location,
    error,
    list_params,
    page_response,
    validated,
)
from products.read import queries
from products.read.params import reservation_list_params
from products.write import commands

_NOT_ACTIVE = error(
    'The reservation is not active: "reservation_expired", "reservation_committed" or '
    '"reservation_released" (or the Idempotency-Key is in flight).'
)
_CHANGE_ERRORS = {
    **POST_ERRORS,
    404: error("No reservation has this id."),
    409: _NOT_ACTIVE,
}


def _ended(operation_id, summary, description):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={200: serializers.ReservationSerializer, 400: INVALID, **_CHANGE_ERRORS},
    )


@extend_schema_view(
    list=extend_schema(
        summary="List reservations",
        description="Newest first, keyset-paginated. `status=expired` includes active ones whose time is up.",
        parameters=[serializers.ReservationListParamsSerializer],
        responses={200: serializers.ReservationPageSerializer, 400: INVALID},
    ),
    retrieve=extend_schema(
        summary="Get a reservation",
        responses={200: serializers.ReservationSerializer, 404: error("No reservation has this id.")},
    ),
    create=extend_schema(
        summary="Hold stock for a checkout",
        description=(
            "All or nothing: every line's quantity is held at its location (default `main`) until "
            "`expires_at` (now + `expires_in` seconds, default 900), or nothing is. A line whose "
            "location has less available than asked makes it a 409 listing every short line. "
            "From `expires_at` on the reservation holds nothing, whether or not any job has run. "
            "An unknown or archived product, or an unknown or inactive location: 400."
        ),
        parameters=[IDEMPOTENCY_KEY, created_location("/api/reservations/{id}/")],
        request=serializers.ReservationCreateSerializer,
        responses={
            201: serializers.ReservationSerializer,
            400: INVALID,
            **POST_ERRORS,
            409: OpenApiResponse(
                serializers.InsufficientStockSerializer,
                description='Not enough available ("insufficient_stock", with the short lines), '
                "or the Idempotency-Key is in flight.",
            ),
        },
    ),
    commit=_ended(
        "reservations_commit",
        "Commit a reservation (the order is paid)",
        "Each line's quantity leaves the stock of its location at once (ledger rows with reason "
        "`sale` and the reservation's reference). A product archived since, or a location made "
        "inactive since: 400, nothing changed, and the reservation stays active.",
    ),
    release=_ended("reservations_release", "Release a reservation", "The held stock is available again."),
    extend=extend_schema(
        operation_id="reservations_extend",
        summary="Extend a reservation",
        description="Only an active reservation: it then holds its stock until now + `expires_in` seconds.",
        parameters=[IDEMPOTENCY_KEY],
        request=serializers.ReservationExtendSerializer,
        responses={200: serializers.ReservationSerializer, 400: INVALID, **_CHANGE_ERRORS},
    ),
)
class ReservationViewSet(viewsets.ViewSet):
    lookup_value_regex = UUID_PATH
    write_permissions = {
        "create": ["products.add_reservation"],
        "commit": ["products.change_reservation"],
        "release": ["products.change_reservation"],
        "extend": ["products.change_reservation"],
    }

    def list(self, request):
        params = list_params(reservation_list_params, request)
        return page_response(request, bus.ask(queries.ListReservations(**params)))

    def retrieve(self, request, pk=None):
        return Response(bus.ask(queries.GetReservation(reservation_id=pk)))

    @idempotent
    def create(self, request):
        data = validated(serializers.ReservationCreateSerializer, request.data)
        lines = tuple(
            commands.ReservationLine(product_id=line["product"], quantity=line["quantity"], location=line["location"])
            for line in data["lines"]
        )
        reservation = bus.dispatch(
            commands.PlaceReservation(
                lines=lines, expires_in=data["expires_in"], reference=data["reference"], actor_id=request.user.pk
            )
        )
        return created(Response(reservation, status=status.HTTP_201_CREATED), f"/api/reservations/{reservation['id']}/")

    @action(detail=True, methods=["post"])
    @idempotent
    def commit(self, request, pk=None):
        validated(serializers.EmptySerializer, request.data)
        return Response(bus.dispatch(commands.CommitReservation(reservation_id=pk, actor_id=request.user.pk)))

    @action(detail=True, methods=["post"])
    @idempotent
    def release(self, request, pk=None):
        validated(serializers.EmptySerializer, request.data)
        return Response(bus.dispatch(commands.ReleaseReservation(reservation_id=pk)))

    @action(detail=True, methods=["post"])
    @idempotent
    def extend(self, request, pk=None):
        data = validated(serializers.ReservationExtendSerializer, request.data)
        return Response(bus.dispatch(commands.ExtendReservation(reservation_id=pk, expires_in=data["expires_in"])))

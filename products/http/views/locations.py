"""The locations endpoints: list, read, create, change. A location is never deleted."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.response import Response

from cqrs_demo.bus import bus
from products.http import serializers
from products.http.idempotency import idempotent
from products.http.views.common import (
    IDEMPOTENCY_KEY,
    INVALID,
    POST_ERRORS,
    WRITE_ERRORS,
    created,
    created_location,
    error,
    list_params,
    page_response,
    validated,
)
from products.read import queries
from products.read.params import page_params
from products.write import commands


@extend_schema_view(
    list=extend_schema(
        summary="List locations",
        description="Ordered by code, inactive locations included. `main` (Main warehouse) always exists.",
        parameters=[serializers.PageParamsSerializer],
        responses={200: serializers.LocationPageSerializer, 400: INVALID},
    ),
    retrieve=extend_schema(
        summary="Get a location", responses={200: serializers.LocationSerializer, 404: error("Not found.")}
    ),
    create=extend_schema(
        summary="Create a location",
        description="The answer's `Location` header is the new location's URL. A taken code is a 400 on `code`.",
        parameters=[IDEMPOTENCY_KEY, created_location("/api/locations/{code}/")],
        request=serializers.LocationCreateSerializer,
        responses={201: serializers.LocationSerializer, 400: INVALID, **POST_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Rename a location or make it (in)active",
        description="A location cannot be deleted: make it inactive instead.",
        request=serializers.LocationChangeSerializer,
        responses={
            200: serializers.LocationSerializer,
            400: INVALID,
            404: error("Not found."),
            **WRITE_ERRORS,
        },
    ),
)
class LocationViewSet(viewsets.ViewSet):
    lookup_field = "code"
    lookup_value_regex = r"[-a-z0-9_]+"
    write_permissions = {
        "create": ["products.add_location"],
        "partial_update": ["products.change_location"],
    }

    def list(self, request):
        params = list_params(page_params, request)
        return page_response(request, bus.ask(queries.ListLocations(**params)))

    def retrieve(self, request, code=None):
        return Response(bus.ask(queries.GetLocation(code=code)))

    @idempotent
    def create(self, request):
        data = validated(serializers.LocationCreateSerializer, request.data)
        location = bus.dispatch(commands.CreateLocation(code=data["code"], name=data["name"]))
        return created(Response(location, status=status.HTTP_201_CREATED), f"/api/locations/{location['code']}/")

    def partial_update(self, request, code=None):
        data = validated(serializers.LocationChangeSerializer, request.data, partial=True)
        return Response(bus.dispatch(commands.ChangeLocation(code=code, **data)))

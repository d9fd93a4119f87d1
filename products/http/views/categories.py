"""The categories endpoints: list, read, create, rename."""

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
        summary="List categories",
        parameters=[serializers.PageParamsSerializer],
        responses={200: serializers.CategoryPageSerializer, 400: INVALID},
    ),
    retrieve=extend_schema(
        summary="Get a category", responses={200: serializers.CategorySerializer, 404: error("Not found.")}
    ),
    create=extend_schema(
        summary="Create a category",
        parameters=[IDEMPOTENCY_KEY, created_location("/api/categories/{slug}/")],
        request=serializers.CategoryCreateSerializer,
        responses={201: serializers.CategorySerializer, 400: INVALID, **POST_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Rename a category",
        description="The new name reaches the read row of every product in the category before the response.",
        request=serializers.CategoryRenameSerializer,
        responses={
            200: serializers.CategorySerializer,
            400: INVALID,
            404: error("Not found."),
            **WRITE_ERRORS,
        },
    ),
)
class CategoryViewSet(viewsets.ViewSet):
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    write_permissions = {
        "create": ["products.add_category"],
        "partial_update": ["products.change_category"],
    }

    def list(self, request):
        params = list_params(page_params, request)
        return page_response(request, bus.ask(queries.ListCategories(**params)))

    def retrieve(self, request, slug=None):
        return Response(bus.ask(queries.GetCategory(slug=slug)))

    @idempotent
    def create(self, request):
        data = validated(serializers.CategoryCreateSerializer, request.data)
        category = bus.dispatch(commands.CreateCategory(slug=data["slug"], name=data["name"]))
        return created(Response(category, status=status.HTTP_201_CREATED), f"/api/categories/{category['slug']}/")

    def partial_update(self, request, slug=None):
        data = validated(serializers.CategoryRenameSerializer, request.data, partial=True)
        if "name" not in data:  # an empty PATCH changes nothing, as PATCH does
            return Response(bus.ask(queries.GetCategory(slug=slug)))
        return Response(bus.dispatch(commands.RenameCategory(slug=slug, name=data["name"])))

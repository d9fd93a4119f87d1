"""Viewsets: parse the request, build a command or query, dispatch it, shape the response.

Reads ask a query (one SQL statement over the read tables). Writes dispatch a command and
answer with the resource as the write tables now hold it, which stays right in split mode,
where the read store catches up a moment later.
"""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from cqrs_demo.bus import bus
from products import commands, queries, serializers, snapshots
from products.commands import UNSET
from products.errors import CategoryNotFoundError
from products.idempotency import idempotent

_ETAG = re.compile(r'^\s*(?:W/)?"(\d+)"\s*$')

IF_MATCH = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": r'^(\*|(W/)?"[0-9]+")$'},
    OpenApiParameter.HEADER,
    description='The product\'s ETag ("<version>"); the write is refused with 412 when it is stale.',
)


def _error(description):
    return OpenApiResponse(response=serializers.ErrorSerializer, description=description)


def expected_version(request):
    """Return the version named by ``If-Match``, or None when any version will do."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header)
    if match is None:
        raise ValidationError({"If-Match": ['Must be "*" or one ETag such as "3".']})
    return int(match.group(1))


def with_etag(response, version):
    response["ETag"] = f'"{version}"'
    return response


def validated(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def page_response(request, page):
    """Shape a keyset page with absolute ``next`` and ``previous`` links."""
    url = request.build_absolute_uri()

    def link(cursor):
        return replace_query_param(url, "cursor", cursor) if cursor else None

    return Response({"next": link(page.next_cursor), "previous": link(page.previous_cursor), "results": page.results})


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    OpenApiParameter.HEADER,
    description=(
        "1-255 characters. Retrying with the same key and body replays the first response for at "
        "least 24 hours; another body gets 422, a retry while the first runs gets 409."
    ),
)

WRITE_ERRORS = {
    401: _error("Not authenticated."),
    403: _error("Authenticated without the model permission."),
    415: _error("Unsupported media type."),
}
POST_ERRORS = {
    **WRITE_ERRORS,
    409: _error('A request with this Idempotency-Key is still running ("idempotency_key_in_flight").'),
    422: _error('The Idempotency-Key was used with another body ("idempotency_key_reused").'),
}
PRODUCT_WRITE_ERRORS = {
    **WRITE_ERRORS,
    404: _error("No active product has this id."),
    412: _error('If-Match does not match the current version ("code": "version_mismatch").'),
}


@extend_schema_view(
    list=extend_schema(
        summary="List categories",
        parameters=[serializers.PageParamsSerializer],
        responses={200: serializers.CategoryPageSerializer, 400: OpenApiTypes.OBJECT},
    ),
    retrieve=extend_schema(
        summary="Get a category", responses={200: serializers.CategorySerializer, 404: _error("Not found.")}
    ),
    create=extend_schema(
        summary="Create a category",
        parameters=[IDEMPOTENCY_KEY],
        request=serializers.CategoryCreateSerializer,
        responses={201: serializers.CategorySerializer, 400: OpenApiTypes.OBJECT, **POST_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Rename a category",
        description="The new name reaches the read row of every product in the category before the response.",
        request=serializers.CategoryRenameSerializer,
        responses={
            200: serializers.CategorySerializer,
            400: OpenApiTypes.OBJECT,
            404: _error("Not found."),
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
        params = validated(serializers.PageParamsSerializer, request.query_params)
        return page_response(request, bus.ask(queries.ListCategories(**params)))

    def retrieve(self, request, slug=None):
        return Response(bus.ask(queries.GetCategory(slug=slug)))

    @idempotent
    def create(self, request):
        data = validated(serializers.CategoryCreateSerializer, request.data)
        slug = bus.dispatch(commands.CreateCategory(slug=data["slug"], name=data["name"]))
        return Response(snapshots.category(slug), status=status.HTTP_201_CREATED)

    def partial_update(self, request, slug=None):
        data = validated(serializers.CategoryRenameSerializer, request.data, partial=True)
        if "name" in data:  # an empty PATCH changes nothing, as PATCH does
            bus.dispatch(commands.RenameCategory(slug=slug, name=data["name"]))
        category = snapshots.category(slug)
        if category is None:
            raise CategoryNotFoundError("Category not found.")
        return Response(category)


@extend_schema_view(
    list=extend_schema(
        summary="List products",
        description="Keyset-paginated: follow `next` to visit every matching product exactly once.",
        parameters=[serializers.ProductListParamsSerializer],
        responses={200: serializers.ProductPageSerializer, 400: OpenApiTypes.OBJECT},
    ),
    retrieve=extend_schema(
        summary="Get a product",
        responses={200: serializers.ProductSerializer, 404: _error("No active product has this id.")},
    ),
    create=extend_schema(
        summary="Create a product",
        parameters=[IDEMPOTENCY_KEY],
        request=serializers.ProductCreateSerializer,
        responses={201: serializers.ProductSerializer, 400: OpenApiTypes.OBJECT, **POST_ERRORS},
    ),
    update=extend_schema(
        summary="Replace a product's details",
        parameters=[IF_MATCH],
        request=serializers.ProductReplaceSerializer,
        responses={200: serializers.ProductSerializer, 400: OpenApiTypes.OBJECT, **PRODUCT_WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change some of a product's details",
        parameters=[IF_MATCH],
        request=serializers.ProductDetailsSerializer(partial=True),
        responses={200: serializers.ProductSerializer, 400: OpenApiTypes.OBJECT, **PRODUCT_WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Archive a product",
        description="The product leaves the read side; its ledger and SKU are kept.",
        parameters=[IF_MATCH],
        responses={204: None, 400: OpenApiTypes.OBJECT, **PRODUCT_WRITE_ERRORS},
    ),
)
class ProductViewSet(viewsets.ViewSet):
    # Anything but a UUID in the path is a 404 from the router, never a database error.
    lookup_value_regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    write_permissions = {
        "create": ["products.add_product"],
        "update": ["products.change_product"],
        "partial_update": ["products.change_product"],
        "destroy": ["products.delete_product"],
        "stock": ["products.change_stocklevel"],
    }

    def _written_product_response(self, product_id, status_code=status.HTTP_200_OK):
        # Built from the write side: in split mode the read store may not have caught up yet.
        product = snapshots.representation(product_id)
        return with_etag(Response(product, status=status_code), product["version"])

    def list(self, request):
        params = validated(serializers.ProductListParamsSerializer, request.query_params)
        return page_response(request, bus.ask(queries.ListProducts(**params)))

    def retrieve(self, request, pk=None):
        product = bus.ask(queries.GetProduct(product_id=pk))
        return with_etag(Response(product), product["version"])

    @idempotent
    def create(self, request):
        data = validated(serializers.ProductCreateSerializer, request.data)
        product_id = bus.dispatch(commands.CreateProduct(**data, actor_id=request.user.pk))
        response = self._written_product_response(product_id, status.HTTP_201_CREATED)
        response["Location"] = f"/api/products/{product_id}/"
        return response

    def update(self, request, pk=None):
        data = validated(serializers.ProductReplaceSerializer, request.data)
        return self._update_details(request, pk, data)

    def partial_update(self, request, pk=None):
        data = validated(serializers.ProductDetailsSerializer, request.data, partial=True)
        return self._update_details(request, pk, data)

    def _update_details(self, request, pk, data):
        fields = {name: data.get(name, UNSET) for name in ("name", "description", "category", "price")}
        bus.dispatch(commands.UpdateProductDetails(product_id=pk, expected_version=expected_version(request), **fields))
        return self._written_product_response(pk)

    def destroy(self, request, pk=None):
        bus.dispatch(commands.ArchiveProduct(product_id=pk, expected_version=expected_version(request)))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        summary="Get a product's stock",
        responses={200: serializers.StockSerializer, 404: _error("No active product has this id.")},
    )
    @extend_schema(
        methods=["POST"],
        summary="Change a product's stock",
        description=(
            "Send exactly one of `delta` (relative: a sale or a delivery) and `quantity` (absolute: "
            "a recount). A delta that would take the stock below zero is refused with 409 "
            '(`"code": "insufficient_stock"`).'
        ),
        parameters=[IF_MATCH, IDEMPOTENCY_KEY],
        request=serializers.StockChangeSerializer,
        responses={
            200: serializers.ProductSerializer,
            400: OpenApiTypes.OBJECT,
            **PRODUCT_WRITE_ERRORS,
            409: _error('Not enough stock ("insufficient_stock") or the Idempotency-Key is in flight.'),
            422: _error('The Idempotency-Key was used with another body ("idempotency_key_reused").'),
        },
    )
    @action(detail=True, methods=["get", "post"])
    @idempotent
    def stock(self, request, pk=None):
        if request.method == "GET":
            stock = bus.ask(queries.GetStock(product_id=pk))
            return with_etag(Response(stock), stock["version"])
        data = validated(serializers.StockChangeSerializer, request.data)
        common = {
            "product_id": pk,
            "reason": data["reason"],
            "expected_version": expected_version(request),
            "actor_id": request.user.pk,
        }
        if "delta" in data:
            bus.dispatch(commands.AdjustStock(delta=data["delta"], **common))
        else:
            bus.dispatch(commands.SetStock(quantity=data["quantity"], **common))
        return self._written_product_response(pk)

    @extend_schema(
        summary="List a product's stock movements",
        description="The stock ledger, newest first; the deltas add up to the quantity.",
        parameters=[serializers.PageParamsSerializer],
        responses={
            200: serializers.StockMovementPageSerializer,
            400: OpenApiTypes.OBJECT,
            404: _error("No active product has this id."),
        },
    )
    @action(detail=True, methods=["get"], url_path="stock/movements")
    def movements(self, request, pk=None):
        params = validated(serializers.PageParamsSerializer, request.query_params)
        return page_response(request, bus.ask(queries.ListStockMovements(product_id=pk, **params)))

    @extend_schema(
        summary="List a product's events",
        description=(
            "The product's history from the event log, oldest first, archived products included: "
            "the audit trail, in the shape published to RabbitMQ."
        ),
        parameters=[serializers.PageParamsSerializer],
        responses={
            200: serializers.ProductEventPageSerializer,
            400: OpenApiTypes.OBJECT,
            404: _error("No product has this id."),
        },
    )
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        params = validated(serializers.PageParamsSerializer, request.query_params)
        return page_response(request, bus.ask(queries.ListProductEvents(product_id=pk, **params)))

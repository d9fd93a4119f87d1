"""The products endpoints: list, read, create, change, archive; stock, its ledger, the history."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cqrs_demo.bus import bus
from products.http import serializers
from products.http.idempotency import idempotent
from products.http.views.common import (
    ETAG,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    INVALID,
    POST_ERRORS,
    PRODUCT_WRITE_ERRORS,
    UUID_PATH,
    created,
    created_location,
    error,
    expected_version,
    list_params,
    page_response,
    validated,
    with_etag,
)
from products.http.views.lean import LeanReadsMixin
from products.read import queries
from products.read.params import page_params, product_list_params
from products.write import commands


@extend_schema_view(
    list=extend_schema(
        summary="List products",
        description="Keyset-paginated: follow `next` to visit every matching product exactly once.",
        parameters=[serializers.ProductListParamsSerializer],
        responses={200: serializers.ProductPageSerializer, 400: INVALID},
    ),
    retrieve=extend_schema(
        summary="Get a product",
        parameters=[ETAG],
        responses={200: serializers.ProductSerializer, 404: error("No active product has this id.")},
    ),
    create=extend_schema(
        summary="Create a product",
        parameters=[IDEMPOTENCY_KEY, created_location("/api/products/{id}/"), ETAG],
        request=serializers.ProductCreateSerializer,
        responses={201: serializers.ProductSerializer, 400: INVALID, **POST_ERRORS},
    ),
    update=extend_schema(
        summary="Replace a product's details",
        parameters=[IF_MATCH, ETAG],
        request=serializers.ProductReplaceSerializer,
        responses={200: serializers.ProductSerializer, 400: INVALID, **PRODUCT_WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change some of a product's details",
        parameters=[IF_MATCH, ETAG],
        request=serializers.ProductDetailsSerializer(partial=True),
        responses={200: serializers.ProductSerializer, 400: INVALID, **PRODUCT_WRITE_ERRORS},
    ),
    destroy=extend_schema(
        summary="Archive a product",
        description="The product leaves the read side; its ledger and SKU are kept.",
        parameters=[IF_MATCH],
        responses={204: None, 400: INVALID, **PRODUCT_WRITE_ERRORS},
    ),
)
class ProductViewSet(LeanReadsMixin, viewsets.ViewSet):
    # Anything but a UUID in the path is a 404 from the router, never a database error.
    lookup_value_regex = UUID_PATH
    lean_actions = frozenset({"list", "retrieve"})
    write_permissions = {
        "create": ["products.add_product"],
        "update": ["products.change_product"],
        "partial_update": ["products.change_product"],
        "destroy": ["products.delete_product"],
        "stock": ["products.change_stocklevel"],
    }

    def _written(self, product, status_code=status.HTTP_200_OK):
        # What the handler returned, from the write side: in split mode the read store may lag.
        return with_etag(Response(product, status=status_code), product["version"])

    def list(self, request):
        params = list_params(product_list_params, request)
        return page_response(request, bus.ask(queries.ListProducts(**params)))

    def retrieve(self, request, pk=None):
        product = bus.ask(queries.GetProduct(product_id=pk))
        return with_etag(Response(product), product["version"])

    @idempotent
    def create(self, request):
        data = validated(serializers.ProductCreateSerializer, request.data)
        product = bus.dispatch(commands.CreateProduct(**data, actor_id=request.user.pk))
        return created(self._written(product, status.HTTP_201_CREATED), f"/api/products/{product['id']}/")

    def update(self, request, pk=None):
        data = validated(serializers.ProductReplaceSerializer, request.data)
        return self._update_details(request, pk, data)

    def partial_update(self, request, pk=None):
        data = validated(serializers.ProductDetailsSerializer, request.data, partial=True)
        return self._update_details(request, pk, data)

    def _update_details(self, request, pk, data):
        fields = {
            name: data.get(name, commands.UNSET)
            for name in ("name", "description", "category", "price", "reorder_point")
        }
        return self._written(
            bus.dispatch(
                commands.UpdateProductDetails(product_id=pk, expected_version=expected_version(request), **fields)
            )
        )

    def destroy(self, request, pk=None):
        bus.dispatch(commands.ArchiveProduct(product_id=pk, expected_version=expected_version(request)))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        summary="Get a product's stock",
        parameters=[ETAG],
        responses={200: serializers.StockSerializer, 404: error("No active product has this id.")},
    )
    @extend_schema(
        methods=["POST"],
        operation_id="products_stock_change",
        summary="Change a product's stock",
        description=(
            "Send exactly one of `delta` (relative: a sale or a delivery) and `quantity` (absolute: "
            "a recount) of the stock at `location` (a location's code, default `main`). A delta that "
            "would take the stock at that location below zero is refused with 409 "
            '(`"code": "insufficient_stock"`). An unknown location, or an inactive one (an inactive '
            "location takes no new stock, and no change at all), is refused with 400 on `location`."
        ),
        parameters=[IF_MATCH, IDEMPOTENCY_KEY, ETAG],
        request=serializers.StockChangeSerializer,
        responses={
            200: serializers.ProductSerializer,
            400: INVALID,
            **PRODUCT_WRITE_ERRORS,
            409: error('Not enough stock ("insufficient_stock") or the Idempotency-Key is in flight.'),
            422: error('The Idempotency-Key was used with another body ("idempotency_key_reused").'),
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
            "location": data["location"],
            "expected_version": expected_version(request),
            "actor_id": request.user.pk,
        }
        if "delta" in data:
            command = commands.AdjustStock(delta=data["delta"], **common)
        else:
            command = commands.SetStock(quantity=data["quantity"], **common)
        return self._written(bus.dispatch(command))

    @extend_schema(
        operation_id="products_stock_movements_list",
        summary="List a product's stock movements",
        description="The stock ledger, newest first; the deltas add up to the quantity.",
        parameters=[serializers.PageParamsSerializer],
        responses={
            200: serializers.StockMovementPageSerializer,
            400: INVALID,
            404: error("No active product has this id."),
        },
    )
    @action(detail=True, methods=["get"], url_path="stock/movements")
    def movements(self, request, pk=None):
        params = list_params(page_params, request)
        return page_response(request, bus.ask(queries.ListStockMovements(product_id=pk, **params)))

    @extend_schema(
        operation_id="products_events_list",
        summary="List a product's events",
        description=(
            "The product's history from the event log, oldest first, archived products included: "
            "the audit trail, in the shape published to RabbitMQ."
        ),
        parameters=[serializers.PageParamsSerializer],
        responses={
            200: serializers.ProductEventPageSerializer,
            400: INVALID,
            404: error("No product has this id."),
        },
    )
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        params = list_params(page_params, request)
        return page_response(request, bus.ask(queries.ListProductEvents(product_id=pk, **params)))

"""The multi-line stock endpoints: a batch of adjustments, a transfer between locations (all or nothing)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cqrs_demo.bus import bus
from products.http import serializers
from products.http.idempotency import idempotent
from products.http.views.common import IDEMPOTENCY_KEY, INVALID, POST_ERRORS, validated
from products.write import commands


def _refused(what):
    return OpenApiResponse(
        serializers.StockLinesRefusedSerializer,
        description=f'{what} ("insufficient_stock", listing every line at fault), or the Idempotency-Key is in flight.',
    )


class StockViewSet(viewsets.ViewSet):
    write_permissions = {
        "adjustments": ["products.change_stocklevel"],
        "transfers": ["products.change_stocklevel"],
    }

    @extend_schema(
        summary="Adjust the stock of many products at once",
        description=(
            "A whole delivery, order or stocktake: 1-1,000 lines, each exactly one of `delta` and "
            "`quantity` (a recount) at `location` (default `main`), one line per (product, location). "
            "All or nothing: a line that would leave less than what active reservations hold there "
            "(below zero available) or more than 1,000,000,000 makes it a 409 listing every such line. "
            "Each line is recorded as its own StockAdjusted or StockSet event and ledger row."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=serializers.StockBatchSerializer,
        responses={
            200: serializers.StockBatchResultSerializer,
            400: INVALID,
            **POST_ERRORS,
            409: _refused("A line would break a stock rule"),
        },
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def adjustments(self, request):
        data = validated(serializers.StockBatchSerializer, request.data)
        lines = tuple(
            commands.BatchLine(
                product_id=line["product"],
                delta=line.get("delta"),
                quantity=line.get("quantity"),
                location=line["location"],
            )
            for line in data["lines"]
        )
        command = commands.AdjustStockBatch(
            lines=lines, reason=data["reason"], reference=data["reference"], actor_id=request.user.pk
        )
        return Response(bus.dispatch(command))

    @extend_schema(
        summary="Move stock between locations",
        description=(
            "All or nothing: each line's quantity leaves `from` and arrives at `to` (two ledger rows, "
            "reason `transfer`); products' totals are unchanged. A line `from` lacks available for is a 409."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=serializers.StockTransferSerializer,
        responses={
            200: serializers.StockTransferResultSerializer,
            400: INVALID,
            **POST_ERRORS,
            409: _refused("`from` lacks available stock"),
        },
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def transfers(self, request):
        data = validated(serializers.StockTransferSerializer, request.data)
        lines = tuple(
            commands.TransferLine(product_id=line["product"], quantity=line["quantity"]) for line in data["lines"]
        )
        command = commands.TransferStock(
            from_location=data["from"],
            to_location=data["to"],
            lines=lines,
            reference=data["reference"],
            actor_id=request.user.pk,
        )
        return Response(bus.dispatch(command))

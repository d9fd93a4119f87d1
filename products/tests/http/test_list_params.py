"""The lists' serializers, which document the query parameters in the schema, read them as
products.read.params does for both APIs: the same queries from good input, the same messages
for bad input. A rule changed in one place and not the other fails here."""

import json
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from products.http import serializers
from products.read import queries
from products.read.params import InvalidParams, page_params, product_list_params, reservation_list_params

PAGE_CASES = [
    {},
    {"page_size": "5"},
    {"page_size": "5.0"},
    {"page_size": " 7 "},
    {"page_size": "1000"},
    {"page_size": "0"},
    {"page_size": "-1"},
    {"page_size": "abc"},
    {"page_size": "1.5"},
    {"page_size": ""},
    {"page_size": "9" * 1001},
    {"cursor": ""},
    {"cursor": "   "},
    {"cursor": " abc "},
    {"cursor": "a\x00b"},
    {"cursor": "", "page_size": ""},
]
PRODUCT_CASES = [
    *PAGE_CASES,
    {"search": ""},
    {"search": "  claw  hammer "},
    {"search": "x" * 201},
    {"search": "a\x00"},
    {"category": "hand-tools"},
    {"category": " hand-tools"},
    {"category": "bad slug"},
    {"category": "a" * 101},
    {"category": "é" * 101},
    {"category": ""},
    {"in_stock": "true"},
    {"in_stock": "FALSE"},
    {"in_stock": "Yes"},
    {"in_stock": "0"},
    {"in_stock": "null"},
    {"in_stock": "maybe"},
    {"in_stock": ""},
    {"low_stock": "on", "in_stock": "off"},
    {"location": "east"},
    {"location": "EAST"},
    {"location": "a" * 33},
    {"location": "east\n"},
    {"min_price": "5"},
    {"min_price": "5.5", "max_price": "12.50"},
    {"min_price": "12.50", "max_price": "5"},
    {"min_price": "abc"},
    {"min_price": "-1"},
    {"min_price": "-0"},
    {"min_price": "1.234"},
    {"min_price": "123456789"},
    {"min_price": "000000000012"},
    {"min_price": "12345678901.5"},
    {"min_price": " 1"},
    {"min_price": "1e3"},
    {"min_price": "١٢"},
    {"max_price": "abc", "min_price": "1", "page_size": "0"},
    {"ordering": "-price"},
    {"ordering": "created_at"},
    {"ordering": "bogus"},
    {"ordering": ""},
    {"ordering": " sku"},
]
RESERVATION_CASES = [
    *PAGE_CASES,
    {"status": "active"},
    {"status": "expired"},
    {"status": "bogus"},
    {"status": ""},
    {"reference": "order-1"},
    {"reference": "  order-1 "},
    {"reference": "  "},
    {"reference": "r" * 201},
]
LISTS = [
    (serializers.PageParamsSerializer, page_params, queries.ListCategories, PAGE_CASES),
    (serializers.ProductListParamsSerializer, product_list_params, queries.ListProducts, PRODUCT_CASES),
    (serializers.ReservationListParamsSerializer, reservation_list_params, queries.ListReservations, RESERVATION_CASES),
]


def _by_serializer(serializer_class, query_type, data):
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return "query", query_type(**serializer.validated_data)
    return "refused", json.loads(json.dumps(serializer.errors))


def _by_read_side(read, query_type, data):
    try:
        return "query", query_type(**read(data))
    except InvalidParams as error:
        return "refused", error.errors


@pytest.mark.parametrize(
    ("serializer_class", "read", "query_type", "params"),
    [(s, r, q, params) for s, r, q, cases in LISTS for params in cases],
    ids=lambda value: urlencode(value) if isinstance(value, dict) else getattr(value, "__name__", ""),
)
def test_the_documenting_serializer_and_the_read_side_read_a_query_string_alike(
    serializer_class, read, query_type, params
):
    data = QueryDict(urlencode(params))
    assert _by_read_side(read, query_type, data) == _by_serializer(serializer_class, query_type, data)

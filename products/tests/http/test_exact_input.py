"""Identifiers and prices are taken exactly as sent: never trimmed, never read in another script.

An SKU, a slug or a location code with a space or a newline around it is another identifier,
not the trimmed one; a price is ASCII digits with an optional point and at most 2 decimals,
not whatever Python's ``Decimal`` can read ("1_000.00", Arabic-Indic digits, " 12 ", "1e2").
"""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from products.write.models import Category, Location, Product, StockMovement

pytestmark = pytest.mark.django_db

PADDED = [" {}", "{} ", "{}\n", "\t{}", "{}\r\n", " {} "]


def padded(value):
    return [pattern.format(value) for pattern in PADDED]


@pytest.fixture
def tools(make_category):
    return make_category(slug="hand-tools", name="Hand tools")


@pytest.fixture
def product(client, tools):
    response = client.post("/api/products/", {"sku": "EX-1", "name": "Hammer", "price": "12.50", "initial_stock": 5})
    assert response.status_code == 201, response.content
    return response.json()


def assert_400_on(response, field):
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


class TestIdentifiersAreNotTrimmed:
    @pytest.mark.parametrize("sku", padded("SKU-1"))
    def test_a_padded_sku_is_refused_and_nothing_is_created(self, client, sku):
        assert_400_on(client.post("/api/products/", {"sku": sku, "name": "A", "price": "1.00"}, format="json"), "sku")
        assert not Product.objects.exists()

    @pytest.mark.parametrize("slug", padded("hand-tools"))
    def test_a_padded_category_of_a_product_is_refused(self, client, tools, product, slug):
        body = {"sku": "EX-2", "name": "A", "price": "1.00", "category": slug}
        assert_400_on(client.post("/api/products/", body, format="json"), "category")
        response = client.patch(f"/api/products/{product['id']}/", {"category": slug}, format="json")
        assert_400_on(response, "category")
        assert not Product.objects.filter(sku="EX-2").exists()
        assert client.get(f"/api/products/{product['id']}/").json() == product

    @pytest.mark.parametrize("slug", padded("fasteners"))
    def test_a_padded_category_slug_is_refused(self, client, slug):
        response = client.post("/api/categories/", {"name": "Fasteners", "slug": slug}, format="json")
        assert_400_on(response, "slug")
        assert not Category.objects.exists()

    @pytest.mark.parametrize("code", padded("east"))
    def test_a_padded_location_code_is_refused(self, client, code):
        assert_400_on(client.post("/api/locations/", {"code": code, "name": "East"}, format="json"), "code")
        assert not Location.objects.filter(name="East").exists()

    @pytest.mark.parametrize("code", padded("main"))
    def test_a_padded_location_of_a_stock_change_is_refused(self, client, product, code):
        url = f"/api/products/{product['id']}/stock/"
        assert_400_on(client.post(url, {"delta": 1, "location": code}, format="json"), "location")
        lines = [{"product": product["id"], "delta": 1, "location": code}]
        assert_400_on(client.post("/api/stock/adjustments/", {"lines": lines}, format="json"), "lines")
        lines = [{"product": product["id"], "quantity": 1, "location": code}]
        assert_400_on(client.post("/api/reservations/", {"lines": lines}, format="json"), "lines")
        client.post("/api/locations/", {"code": "east", "name": "East"}, format="json")
        lines = [{"product": product["id"], "quantity": 1}]
        body = {"from": code, "to": "east", "lines": lines}
        assert_400_on(client.post("/api/stock/transfers/", body, format="json"), "from")
        assert StockMovement.objects.filter(product_id=product["id"]).count() == 1

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("category=hand-tools%0A", "category"),
            ("category=%20hand-tools", "category"),
            ("location=main%20", "location"),
            ("location=%0Amain", "location"),
        ],
    )
    def test_a_padded_identifier_filter_is_refused(self, anon_client, product, query, field):
        assert_400_on(anon_client.get(f"/api/products/?{query}"), field)

    def test_identifiers_as_sent_are_taken(self, client, tools):
        body = {"sku": "A.b_c-1", "name": "A", "price": "1.00", "category": "hand-tools"}
        assert client.post("/api/products/", body, format="json").status_code == 201
        assert client.get("/api/products/?category=hand-tools&location=main").status_code == 200


ARABIC_INDIC = "\u0661\u0662.\u0665\u0660"  # 12.50
BAD_PRICES = [
    "1_000.00",
    "1_0",
    ARABIC_INDIC,  # Arabic-Indic digits: 12.50
    "\u06f1\u06f2",  # Extended Arabic-Indic digits: 12
    "\uff11\uff12.\uff15\uff10",  # full-width digits: 12.50
    " 12.50",
    "12.50 ",
    "12.50\n",
    "+12.50",
    "1e2",
    "12.",
    ".50",
    "-0",
    "-0.00",
    "0x10",
    "Infinity",
    "1,000.00",
]
GOOD_PRICES = [("0", "0.00"), ("12", "12.00"), ("12.5", "12.50"), ("12.50", "12.50"), ("99999999.99", "99999999.99")]


class TestPricesArePlainDecimals:
    @pytest.mark.parametrize("price", BAD_PRICES)
    def test_a_price_that_is_not_a_plain_decimal_is_refused_on_create(self, client, price):
        response = client.post("/api/products/", {"sku": "P-1", "name": "A", "price": price}, format="json")
        assert_400_on(response, "price")
        assert not Product.objects.exists()

    @pytest.mark.parametrize("price", BAD_PRICES)
    def test_a_price_that_is_not_a_plain_decimal_is_refused_on_change(self, client, product, price):
        url = f"/api/products/{product['id']}/"
        assert_400_on(client.patch(url, {"price": price}, format="json"), "price")
        body = {"name": "Hammer", "description": "", "category": None, "price": price}
        assert_400_on(client.put(url, body, format="json"), "price")
        assert client.get(url).json() == product

    @pytest.mark.parametrize(("price", "stored"), GOOD_PRICES)
    def test_a_plain_decimal_price_is_taken(self, client, price, stored):
        response = client.post("/api/products/", {"sku": "P-1", "name": "A", "price": price}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["price"] == stored
        assert Product.objects.get().price == Decimal(stored)

    @pytest.mark.parametrize("price", [12.5, 12, 0])
    def test_a_price_as_a_json_number_is_refused(self, client, price):
        response = client.post("/api/products/", {"sku": "P-1", "name": "A", "price": price}, format="json")
        assert_400_on(response, "price")

    @pytest.mark.parametrize("bound", ["min_price", "max_price"])
    @pytest.mark.parametrize(
        "value", ["1_000", "%D9%A1%D9%A2", "%EF%BC%91", "1e2", "%2B1", "%201", "1%20", "12.", "-0", "Infinity"]
    )
    def test_a_price_filter_that_is_not_a_plain_decimal_is_refused(self, anon_client, product, bound, value):
        assert_400_on(anon_client.get(f"/api/products/?{bound}={value}"), bound)

    def test_plain_decimal_price_filters_are_taken(self, anon_client, product):
        response = anon_client.get("/api/products/?min_price=12.5&max_price=12.50")
        assert [row["sku"] for row in response.json()["results"]] == ["EX-1"]


def import_csv(tmp_path, text, *args):
    path = tmp_path / "products.csv"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_products", str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().splitlines()


@pytest.mark.parametrize("mode", ["--bulk", "--no-bulk"])
def test_the_csv_import_refuses_padded_identifiers_and_loose_prices(tmp_path, tools, mode):
    lines = import_csv(
        tmp_path,
        "sku,name,price,category,location,quantity\n"
        '" PAD-1",Padded SKU,1.00,,,\n'
        "PAD-2,Padded category,1.00, hand-tools,,\n"
        "PAD-3,Padded location,1.00,,main ,1\n"
        "PAD-4,Underscored price,1_000.00,,,\n"
        f"PAD-5,Arabic-Indic price,{ARABIC_INDIC},,,\n"
        "PAD-6,Padded price, 12.50,,,\n"
        "PAD-7,Fine,12.50,hand-tools,main,1\n",
        mode,
    )
    assert [line.split(":")[:2] for line in lines] == [
        ["line 2", " sku"],
        ["line 3", " category"],
        ["line 4", " location"],
        ["line 5", " price"],
        ["line 6", " price"],
        ["line 7", " price"],
    ]
    assert list(Product.objects.values_list("sku", "price")) == [("PAD-7", Decimal("12.50"))]

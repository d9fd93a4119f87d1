"""The issue's floor: a bare-SQL Django view, in the service's own Django process.

Settings, middleware, signals and URL routing are the service's (``bench.django_view_settings``
is ``cqrs_demo.settings.base`` with this URLconf): the service's URL patterns, in their order,
with the product list's and detail's routes pointing at the two views below instead of the
viewset. No DRF: each view runs the read side's own statement (built once, as
bench/bare_asgi.py does: the list's first page, the detail by the path's id) through Django's
connection and answers the rows as JSON (orjson). What the Django API costs beyond this is its
own work on top of Django's.
"""

import uuid

import orjson
from django.db import connection
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver
from django.views.decorators.csrf import csrf_exempt

from cqrs_demo import urls as service_urls
from products.read.queries import GetProduct, ListProducts
from products.read.queries.products import get_product, list_products

LIST = list_products(ListProducts())
DETAIL_SQL = get_product(GetProduct(product_id=uuid.UUID(int=0))).sql


def _json(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return HttpResponse(orjson.dumps(rows, option=orjson.OPT_UTC_Z), content_type="application/json")


# csrf_exempt as DRF's views are, so the CSRF middleware does the same for both.
@csrf_exempt
def product_list(request):
    return _json(LIST.sql, LIST.params)


@csrf_exempt
def product_detail(request, pk):
    return _json(DETAIL_SQL, [pk])


VIEWS = {"product-list": product_list, "product-detail": product_detail}


def _swapped(patterns):
    """Return ``patterns`` with the routes named in ``VIEWS`` pointing at those views instead."""
    swapped = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            pattern = URLResolver(
                pattern.pattern,
                _swapped(pattern.url_patterns),
                pattern.default_kwargs,
                pattern.app_name,
                pattern.namespace,
            )
        elif pattern.name in VIEWS:
            pattern = URLPattern(pattern.pattern, VIEWS[pattern.name], pattern.default_args, pattern.name)
        swapped.append(pattern)
    return swapped


urlpatterns = _swapped(service_urls.urlpatterns)
handler400, handler403 = service_urls.handler400, service_urls.handler403
handler404, handler500 = service_urls.handler404, service_urls.handler500

"""The app's URLs: the API's collections under /api/ and the health probes."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from products.http import health
from products.http.views import CategoryViewSet, LocationViewSet, ProductViewSet, ReservationViewSet, StockViewSet


class Router(DefaultRouter):
    # No `.json` suffix routes: the schema has none, the read API has none, and `?format=` or
    # `Accept` already choose the renderer.
    include_format_suffixes = False


router = Router()
router.register("categories", CategoryViewSet, basename="category")
router.register("locations", LocationViewSet, basename="location")
router.register("products", ProductViewSet, basename="product")
router.register("reservations", ReservationViewSet, basename="reservation")
router.register("stock", StockViewSet, basename="stock")

urlpatterns = [
    path("api/", include(router.urls)),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
]

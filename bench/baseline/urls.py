from django.urls import include, path
from rest_framework.routers import DefaultRouter

from bench.baseline.shop.views import CategoryViewSet, ProductViewSet, ReservationViewSet

router = DefaultRouter()
router.register("categories", CategoryViewSet)
router.register("products", ProductViewSet)
router.register("reservations", ReservationViewSet)

urlpatterns = [path("api/", include(router.urls))]

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from bench.baseline.shop.views import CategoryViewSet, ProductViewSet

router = DefaultRouter()
router.register("categories", CategoryViewSet)
router.register("products", ProductViewSet)

urlpatterns = [path("api/", include(router.urls))]

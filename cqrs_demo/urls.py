"""The project's URLs: the app's (by name, so the project imports nothing of it), the schema and docs, auth, admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("", include("products.http.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "products.http.errors.bad_request"
handler403 = "products.http.errors.permission_denied"
handler404 = "products.http.errors.not_found"
handler500 = "products.http.errors.server_error"

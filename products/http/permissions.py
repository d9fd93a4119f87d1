"""Access rules: reads open (unless configured closed), writes need the model permission."""

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission


class ReadOpenWriteWithModelPermission(BasePermission):
    """Allow reads to anyone (or to authenticated users when ``API_READS_REQUIRE_AUTH``).

    Writes need an authenticated user holding every permission the view lists for the
    action in ``write_permissions``; an action missing from that map is refused.
    """

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return not settings.API_READS_REQUIRE_AUTH or bool(request.user and request.user.is_authenticated)
        if not (request.user and request.user.is_authenticated):
            return False
        required = getattr(view, "write_permissions", {}).get(getattr(view, "action", None))
        if required is None:
            return bool(request.user.is_superuser)
        return request.user.has_perms(required)

"""Who is asking: the Django API's token authentication and read rule, by one SQL statement.

As DRF's ``TokenAuthentication`` (products.http.authentication) answers: a request without
``Authorization: Token ...`` is anonymous; a malformed header, an unknown key or an inactive
user is a 401 even where reads are open; with ``API_READS_REQUIRE_AUTH`` an anonymous read is
a 401 too. Sessions are the browsable API's and the admin's: this service takes tokens only.
"""

from products.read.statement import WRITE_STORE

# Django's tables for rest_framework.authtoken's Token and the default user model.
TOKEN_USER_SQL = """
    SELECT u.is_active FROM authtoken_token t JOIN auth_user u ON u.id = t.user_id WHERE t.key = %s
"""
NOT_AUTHENTICATED = "Authentication credentials were not provided."


class AuthenticationFailed(Exception):
    def __init__(self, detail):
        super().__init__(detail)
        self.detail = detail


async def authenticate(databases, headers, *, reads_require_auth):
    """Return whether the request carries a valid token; raise ``AuthenticationFailed`` as DRF would."""
    header = headers.get("authorization")
    parts = header.encode("latin-1").split() if header else []
    if not parts or parts[0].lower() != b"token":
        if reads_require_auth:
            raise AuthenticationFailed(NOT_AUTHENTICATED)
        return False
    if len(parts) == 1:
        raise AuthenticationFailed("Invalid token header. No credentials provided.")
    if len(parts) > 2:
        raise AuthenticationFailed("Invalid token header. Token string should not contain spaces.")
    try:
        key = parts[1].decode()
    except UnicodeError:
        raise AuthenticationFailed(
            "Invalid token header. Token string should not contain invalid characters."
        ) from None
    rows = await databases.fetch(TOKEN_USER_SQL, [key], WRITE_STORE)
    if not rows:
        raise AuthenticationFailed("Invalid token.")
    if not rows[0]["is_active"]:
        raise AuthenticationFailed("User inactive or deleted.")
    return True

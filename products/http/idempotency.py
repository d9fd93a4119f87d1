"""Idempotency keys for POST requests, after the IETF httpapi draft and Stripe's practice.

A request with a key runs in one transaction that claims the key (a transaction-level
advisory lock), runs the command and stores its response: either all of it commits or none
of it does. A replayed response therefore always describes a change that happened, and a
request that failed (a 5xx, the database gone mid-way, the worker killed) leaves nothing
behind, not even its claim, with nothing to clean up: its retry runs the command.

The lock's key is a 64-bit hash of the key's scope, in the same key space as the products'
locks (``products.write.commands.common``): two scopes, or a scope and a product, share a
lock only by a hash collision, and then a keyed request gets a needless 409 and is retried.
"""

import functools
import hashlib

import orjson
from django.db import connection, transaction
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response

from products.errors import IdempotencyKeyInFlightError, IdempotencyKeyReusedError
from products.http.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEPT_HEADERS = ("Location", "ETag")


def fingerprint(data):
    """Return a hash of the parsed body, so equal JSON with other spacing or key order matches."""
    if hasattr(data, "lists"):  # a QueryDict from a form
        data = dict(data.lists())
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def _key_from(request):
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 255:
        raise serializers.ValidationError({HEADER: ["Must be 1 to 255 characters."]})
    return key


def _lock_key(scope):
    """Return the advisory lock key of a key's scope: the first 64 bits of a hash of it."""
    user = scope["user"].pk if scope["user"] is not None else ""
    text = "\0".join(str(part) for part in (user, scope["method"], scope["path"], scope["key"]))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)


def _claim(scope, body_hash):
    """Claim the key for this transaction; return None, or the stored response to replay.

    The claim is a transaction-level advisory lock: PostgreSQL drops it when the transaction
    ends, however it ends (commit, rollback, the session killed, the server restarted), so
    no request can leave it behind. Try, never wait: a second holder is a concurrent
    duplicate. The response is read after the lock is held, in a statement of its own, so
    it sees what a previous holder committed.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_key(scope)])
        (claimed,) = cursor.fetchone()
    if not claimed:
        raise IdempotencyKeyInFlightError("A request with this Idempotency-Key is still being processed.")
    stored = IdempotencyKey.objects.filter(**scope).first()
    if stored is not None and stored.fingerprint != body_hash:
        raise IdempotencyKeyReusedError("This Idempotency-Key was used with another request body.")
    return stored


def _replay(stored):
    response = Response(orjson.loads(stored.response_body), status=stored.response_status)
    for name, value in stored.response_headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def idempotent(view_method):
    """Make a POST view method safe to retry with an ``Idempotency-Key`` header."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = _key_from(request) if request.method == "POST" else None
        if key is None:
            return view_method(self, request, *args, **kwargs)
        body_hash = fingerprint(request.data)
        scope = {
            "user": request.user if request.user.is_authenticated else None,
            "method": request.method,
            "path": request.path,
            "key": key,
        }
        try:
            with transaction.atomic():
                stored = _claim(scope, body_hash)
                if stored is not None:
                    return _replay(stored)
                try:
                    response = view_method(self, request, *args, **kwargs)
                except Exception as exc:
                    # Refusals (400, 404, 409, 412) are answers too, and replayed like successes.
                    response = self.handle_exception(exc)
                if response.status_code >= 500:
                    raise _NotStored(response)  # roll back: a retry runs the command again
                IdempotencyKey.objects.create(
                    **scope,
                    fingerprint=body_hash,
                    response_status=response.status_code,
                    response_body=orjson.dumps(
                        response.data, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
                    ).decode(),
                    response_headers={h: response[h] for h in _KEPT_HEADERS if h in response},
                )
        except _NotStored as failure:
            return failure.response
        return response

    return wrapper


class _NotStored(Exception):
    def __init__(self, response):
        self.response = response


def purge(older_than):
    """Delete keys created before ``older_than`` ago; return how many."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted

"""Idempotency keys for POST requests, after the IETF httpapi draft and Stripe's practice.

The first request with a key claims it (committed at once, so concurrent retries see it),
then runs in one transaction with the storing of its response: either both commit or
neither does, so a replayed response always describes a change that happened, and a
request that died mid-way can safely run again.
"""

import functools
import hashlib
from datetime import timedelta

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
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


def _claim(request, key, body_hash):
    """Claim ``key`` for this request; return None, or the stored row to replay."""
    user = request.user if request.user.is_authenticated else None
    scope = {"user": user, "method": request.method, "path": request.path, "key": key}
    now = timezone.now()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(**scope, fingerprint=body_hash, claimed_at=now)
        return None
    except IntegrityError:
        pass
    stored = IdempotencyKey.objects.get(**scope)
    if stored.fingerprint != body_hash:
        raise IdempotencyKeyReusedError("This Idempotency-Key was used with another request body.")
    if stored.response_status is not None:
        return stored
    abandoned = now - timedelta(seconds=settings.IDEMPOTENCY_IN_FLIGHT_TIMEOUT)
    # A claim this old belongs to a request that died before committing: take it over.
    if IdempotencyKey.objects.filter(pk=stored.pk, response_status=None, claimed_at__lt=abandoned).update(
        claimed_at=now
    ):
        return None
    raise IdempotencyKeyInFlightError("A request with this Idempotency-Key is still being processed.")


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
        stored = _claim(request, key, body_hash)
        if stored is not None:
            return _replay(stored)
        scope = {
            "user": request.user if request.user.is_authenticated else None,
            "method": request.method,
            "path": request.path,
            "key": key,
        }
        try:
            with transaction.atomic():
                try:
                    response = view_method(self, request, *args, **kwargs)
                except Exception as exc:
                    # Refusals (400, 404, 409, 412) are answers too, and replayed like successes.
                    response = self.handle_exception(exc)
                if response.status_code >= 500:
                    raise _NotStored(response)
                IdempotencyKey.objects.filter(**scope).update(
                    response_status=response.status_code,
                    response_body=orjson.dumps(
                        response.data, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
                    ).decode(),
                    response_headers={h: response[h] for h in _KEPT_HEADERS if h in response},
                )
        except _NotStored as failure:
            IdempotencyKey.objects.filter(**scope, response_status=None).delete()
            return failure.response
        except BaseException:
            IdempotencyKey.objects.filter(**scope, response_status=None).delete()
            raise
        return response

    return wrapper


class _NotStored(Exception):
    def __init__(self, response):
        self.response = response


def purge(older_than):
    """Delete keys created before ``older_than`` ago; return how many."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted

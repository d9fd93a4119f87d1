"""The HTTP layer's own table: responses stored for ``Idempotency-Key`` retries."""

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key``, replayed on retries.

    A row without a response is a request still running (or one that died before it
    committed, which is safe to run again once ``claimed_at`` is old).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2048)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the parsed request body.")
    claimed_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.TextField(null=True)  # noqa: DJ001 (null = no response yet)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "method", "path", "key"], name="idempotency_key_scope"),
            # Anonymous keys are scoped like users' (NULL never equals NULL in a unique index).
            models.UniqueConstraint(
                fields=["method", "path", "key"], condition=models.Q(user=None), name="idempotency_key_scope_anon"
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self):
        return f"{self.method} {self.path} {self.key}"

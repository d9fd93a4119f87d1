"""The HTTP layer's own table: responses stored for ``Idempotency-Key`` retries."""

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """The first response to a POST sent with an ``Idempotency-Key``, replayed on retries.

    Written in the transaction of the command it answers, so a row exists only for a
    command that committed (or a refusal); a request still running holds an advisory lock
    instead (see ``products.http.idempotency``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2048)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the parsed request body.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField()
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

"""The warehouse side: API keys, inventory levels and the outbound webhook."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from fulfillment.core.fields import EncryptedTextField
from fulfillment.core.outbound import OutboundItem, RetryPolicy


class WmsApiKey(models.Model):
    """A warehouse's API key. Only its sha256 is stored; the key is shown once.

    Keys are 32 random bytes, so a fast hash is enough (no brute force is
    possible against that much entropy) and a lookup is one indexed query.
    """

    warehouse = models.ForeignKey("fulfillment.Warehouse", on_delete=models.CASCADE, related_name="wms_keys")
    name = models.CharField(max_length=100, help_text="Who uses it, e.g. 'WMS production'.")
    prefix = models.CharField(max_length=8, editable=False, help_text="Start of the key, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Who saw the key when it was shown once. Unlinked when that person's account
    # is deactivated, with the time, so the access review asks for a rotation.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    creator_left_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="The person who created it left: rotate the key."
    )

    class Meta:
        ordering = ["warehouse", "-created_at"]
        verbose_name = "WMS API key"

    def __str__(self) -> str:
        return f"{self.name} (wms_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WarehouseWebhook(models.Model):
    """Push instead of pull: released orders are POSTed to the WMS, signed."""

    warehouse = models.OneToOneField(
        "fulfillment.Warehouse", on_delete=models.CASCADE, related_name="webhook"
    )
    url = models.URLField(max_length=500, help_text="The WMS's HTTPS endpoint for released orders.")
    secret = EncryptedTextField(
        help_text="Shared secret: the X-Signature header is sha256=HMAC-SHA256(secret, body) in hex."
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "warehouse webhook"

    def __str__(self) -> str:
        return f"webhook of {self.warehouse_id}"


class WebhookDelivery(OutboundItem):
    """One released order to POST to one webhook: a queue row, one per (webhook, order)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no longer released)"

    state_field = "status"
    waiting_states = (Status.PENDING,)
    retry_policy = RetryPolicy(
        base=dt.timedelta(minutes=1),
        cap=dt.timedelta(hours=6),
        max_attempts_setting="WMS_WEBHOOK_MAX_ATTEMPTS",
    )

    webhook = models.ForeignKey(WarehouseWebhook, on_delete=models.CASCADE, related_name="deliveries")
    order = models.ForeignKey("fulfillment.Order", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # attempts, not_before, last_error, last_attempt_at, attempt_history:
    # fulfillment.core.outbound.OutboundItem.
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            # Enqueuing twice (two sweeps at once) merges into one row: never doubled.
            models.UniqueConstraint(fields=["webhook", "order"], name="webhook_delivery_unique_order"),
        ]
        indexes = [
            # The sweep's poll: pending rows that are due.
            models.Index(
                fields=["not_before"],
                name="webhook_delivery_due_idx",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id} → webhook {self.webhook_id}"


class CsvImportConfirmation(models.Model):
    """A confirmed admin CSV import's payload nonce: a signed payload is good for one import."""

    nonce = models.CharField(max_length=32, unique=True)
    used_at = models.DateTimeField()

    class Meta:
        verbose_name = "CSV import confirmation"
        indexes = [models.Index(fields=["used_at"], name="csv_import_confirm_used_idx")]

    def __str__(self) -> str:
        return self.nonce

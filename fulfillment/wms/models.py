"""The warehouse side: API keys, shipments, inventory levels and the outbound webhook."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from fulfillment.core.fields import EncryptedTextField


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


class Shipment(models.Model):
    """One package the warehouse shipped. Idempotent on (order, package_id)."""

    class Source(models.TextChoices):
        API = "api", "WMS API"
        ADMIN = "admin", "Admin"
        CSV = "csv", "CSV import"

    order = models.ForeignKey("fulfillment.Order", on_delete=models.PROTECT, related_name="shipments")
    package_id = models.CharField("package id", max_length=100, help_text="The WMS's own package id.")
    # Amazon's confirmShipment wants a numeric packageReferenceId: 1, 2, ... per order.
    package_reference = models.PositiveIntegerField(editable=False)
    carrier = models.CharField(max_length=100)
    service = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100)
    ship_date = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["order", "package_id"], name="shipment_unique_package_id"),
            models.UniqueConstraint(
                fields=["order", "package_reference"], name="shipment_unique_package_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.package_id} ({self.tracking_number})"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("fulfillment.OrderLine", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(help_text="Amazon units.")

    class Meta:
        ordering = ["shipment", "order_line"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line"], name="shipment_line_unique_item"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line_id} x{self.quantity}"


class InventoryLevel(models.Model):
    """What the warehouse last said is available of one warehouse SKU."""

    warehouse = models.ForeignKey(
        "fulfillment.Warehouse", on_delete=models.CASCADE, related_name="inventory_levels"
    )
    sku = models.CharField("warehouse SKU", max_length=100)
    available = models.PositiveIntegerField()
    updated_at = models.DateTimeField(help_text="When the quantity last changed.")

    class Meta:
        ordering = ["warehouse", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "sku"], name="inventory_level_unique_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.available}"


class InventoryChange(models.Model):
    """One change of an available quantity: the inventory push sends only what changed."""

    warehouse = models.ForeignKey("fulfillment.Warehouse", on_delete=models.CASCADE, related_name="+")
    sku = models.CharField("warehouse SKU", max_length=100)
    available = models.PositiveIntegerField()
    previous = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: a new SKU.")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes = [
            # inventory_changed_since(): the push's "what changed since my last run".
            models.Index(fields=["warehouse", "changed_at"], name="inventory_change_since_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.previous} → {self.available}"


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


class WebhookDelivery(models.Model):
    """One released order to POST to one webhook: a queue row, one per (webhook, order)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no longer released)"

    webhook = models.ForeignKey(WarehouseWebhook, on_delete=models.CASCADE, related_name="deliveries")
    order = models.ForeignKey("fulfillment.Order", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField()
    last_error = models.TextField(blank=True)
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


class HeldInventorySnapshot(models.Model):
    """A complete inventory snapshot that would zero too much of a warehouse, held for a person.

    Nothing of it is written to the levels until someone applies it; `items`
    is the snapshot exactly as sent ([[sku, available], ...]).
    """

    class State(models.TextChoices):
        HELD = "held", "Held for confirmation"
        APPLIED = "applied", "Applied"
        DISCARDED = "discarded", "Discarded"

    class Source(models.TextChoices):
        API = "api", "WMS API"
        CSV = "csv", "CSV import"

    warehouse = models.ForeignKey("fulfillment.Warehouse", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.HELD)
    source = models.CharField(max_length=4, choices=Source.choices)
    sent_by = models.CharField(max_length=150, blank=True, help_text="The API key or the user.")
    items = models.JSONField(default=list, editable=False)
    item_count = models.PositiveIntegerField("SKUs listed", default=0)
    zeroing = models.PositiveIntegerField("SKUs it sets to 0", default=0)
    stocked = models.PositiveIntegerField("SKUs in stock before", default=0)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "held inventory snapshot"
        indexes = [
            models.Index(fields=["warehouse"], name="held_snapshot_open_idx", condition=Q(state="held")),
        ]

    def __str__(self) -> str:
        return f"snapshot {self.pk} of {self.warehouse_id} ({self.get_state_display()})"


class CsvImportConfirmation(models.Model):
    """A confirmed admin CSV import's payload nonce: a signed payload is good for one import."""

    nonce = models.CharField(max_length=32, unique=True)
    used_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["used_at"], name="csv_import_confirm_used_idx")]

    def __str__(self) -> str:
        return self.nonce

"""Inventory: the warehouse's stock levels and their history, and the push to Amazon.

Levels (`InventoryLevel`, `InventoryChange`) and held snapshots come from the WMS;
`ListingState` is the delta's memory: a SKU is sent again only when the
quantity, handling time or channel code we compute differs from what Amazon
last ACCEPTED (not from what we last sent, so a rejected SKU is retried).
`InventoryPush` and `InventoryFeed` are the outbound queue: a push's plan is
stored per feed before anything is uploaded, so a crash mid-push resumes
(an unfinished feed is polled, never created twice).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from fulfillment.core.outbound import OutboundItem, RetryPolicy


class StoreInventorySettings(models.Model):
    """Per-store inventory push settings, created on demand with the defaults."""

    store = models.OneToOneField(
        "connections.Store", on_delete=models.CASCADE, related_name="inventory_settings"
    )
    share_percent = models.PositiveSmallIntegerField(
        "share of warehouse stock (%)",
        default=100,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="When several stores sell one warehouse's stock: the part this store offers.",
    )
    zero_guard_percent = models.PositiveSmallIntegerField(
        "zero-stock guard (%)",
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="A push that would set more than this share of the store's SKUs to 0 (or cut "
        "them sharply, below) waits for a person to confirm it.",
    )
    zero_guard_count = models.PositiveIntegerField(
        "zero-stock guard (SKUs)",
        default=50,
        help_text="A push that would set at least this many SKUs to 0 (or cut them sharply) waits for "
        "a person too, however large the catalog; 0 turns this count off.",
    )
    drop_guard_percent = models.PositiveSmallIntegerField(
        "sharp cut (%)",
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="A SKU whose quantity on Amazon would fall by more than this share counts for the "
        "guard as if it went to 0 (100: only SKUs going to 0 count).",
    )

    class Meta:
        verbose_name = "store inventory settings"
        verbose_name_plural = "store inventory settings"

    def __str__(self) -> str:
        return f"inventory settings of store {self.store_id}"


class ListingState(models.Model):
    """What Amazon last accepted for one SKU of one store (and why it last refused, if it did)."""

    store = models.ForeignKey("connections.Store", on_delete=models.CASCADE, related_name="listing_states")
    sku = models.CharField("Amazon SKU", max_length=100)
    # Empty until Amazon accepts a quantity for the SKU.
    quantity = models.PositiveIntegerField(null=True, blank=True)
    lead_time = models.PositiveSmallIntegerField("handling time (days)", null=True, blank=True)
    channel_code = models.CharField("fulfillment channel code", max_length=40, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    last_feed = models.ForeignKey(
        "InventoryFeed", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_error = models.TextField(blank=True, help_text="Amazon's message when it last refused the SKU.")
    last_error_at = models.DateTimeField(null=True, blank=True)
    is_amazon_fulfilled = models.BooleanField(
        "Amazon-fulfilled",
        default=False,
        help_text="Amazon reports the offer as fulfilled by Amazon (FBA).",
    )
    # When getListingsItem was last asked about the channel (stores without
    # Remote Fulfillment with FBA only).
    channel_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["store", "sku"]
        constraints = [models.UniqueConstraint(fields=["store", "sku"], name="listing_state_unique_sku")]
        indexes = [
            # The admin's "rejected" filter.
            models.Index(fields=["store"], name="listing_state_error_idx", condition=~Q(last_error="")),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.quantity}"


class InventoryPush(models.Model):
    class State(models.TextChoices):
        BUILDING = "building", "Building"
        AWAITING_CONFIRMATION = "awaiting_confirmation", "Awaiting confirmation (zero-stock guard)"
        SUBMITTED = "submitted", "Submitted to Amazon"
        DONE = "done", "Done"
        # Amazon refused some of its SKUs (listed in rejected_skus), or all of them.
        PARTLY_FAILED = "partly_failed", "Partly failed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Discarded"

    class Method(models.TextChoices):
        FEED = "feed", "JSON_LISTINGS_FEED"
        PATCH = "patch", "patchListingsItem"

    UNFINISHED_STATES = (State.BUILDING, State.SUBMITTED)

    store = models.ForeignKey("connections.Store", on_delete=models.CASCADE, related_name="inventory_pushes")
    state = models.CharField(max_length=24, choices=State.choices, default=State.BUILDING)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.FEED)
    full = models.BooleanField(default=False, help_text="Every SKU, not only the changed ones.")
    messages = models.PositiveIntegerField(default=0, help_text="SKUs sent.")
    feeds = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    zeroing = models.PositiveIntegerField(default=0, help_text="SKUs this push sets to 0.")
    dropping = models.PositiveIntegerField(default=0, help_text="SKUs this push cuts sharply (not to 0).")
    zeroing_share = models.FloatField(
        default=0.0, help_text="SKUs set to 0 or cut sharply / the store's activated SKUs."
    )
    # The SKUs the zero-stock guard counted: [[sku, quantity Amazon has (None: never
    # accepted), quantity this push sends], ...], for the person who confirms it.
    guarded_skus = models.JSONField(default=list, blank=True, editable=False)
    # The SKUs Amazon refused: [[sku, Amazon's message], ...] (at most REJECTED_SKUS_KEPT).
    rejected_skus = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    REJECTED_SKUS_KEPT = 1000

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "inventory push"
        verbose_name_plural = "inventory pushes"
        indexes = [
            # inventory_push_run(): the store's unfinished or held push, resumed first.
            models.Index(
                fields=["store"],
                name="inventory_push_open_idx",
                condition=Q(state__in=["building", "submitted", "awaiting_confirmation"]),
            ),
        ]

    def __str__(self) -> str:
        return f"push {self.pk} of store {self.store_id}: {self.get_state_display().lower()}"


class InventoryFeed(OutboundItem):
    """One feed document of a push (at most 25,000 messages).

    `items` is the plan, stored before upload: [[sku, quantity, lead_time,
    channel_code], ...] in messageId order (messageId = index + 1), so the
    processing report maps back to SKUs and to exactly what was sent.

    A queue row (fulfillment.core.outbound): its attempts are the uploads
    (or, for a patch push, the round of patchListingsItem calls) and the
    polls that got Amazon's answer or an error; a poll that finds Amazon
    still processing is no attempt (nothing went wrong). `last_error` is
    what went wrong last, or the feed-level issues of Amazon's report.
    """

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        SUBMITTED = "submitted", "Submitted"
        DONE = "done", "Done"
        FATAL = "fatal", "Fatal"
        CANCELLED = "cancelled", "Cancelled"

    waiting_states = (State.PLANNED, State.SUBMITTED)
    retry_policy = RetryPolicy(
        base=dt.timedelta(minutes=1),
        cap=dt.timedelta(hours=1),
        max_attempts_setting="INVENTORY_FEED_MAX_ATTEMPTS",
    )

    push = models.ForeignKey(InventoryPush, on_delete=models.CASCADE, related_name="feed_rows")
    sequence = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.PLANNED)
    message_count = models.PositiveIntegerField()
    items = models.JSONField(default=list, editable=False)
    feed_document_id = models.CharField(max_length=200, blank=True)
    feed_id = models.CharField(max_length=40, blank=True)
    report_document_id = models.CharField(max_length=200, blank=True)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["push", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["push", "sequence"], name="inventory_feed_unique_sequence"),
        ]

    def __str__(self) -> str:
        return f"feed {self.feed_id or '(not yet created)'} of push {self.push_id}"


class InventoryLevel(models.Model):
    """What the warehouse last said is available of one warehouse SKU."""

    warehouse = models.ForeignKey(
        "fulfillment.Warehouse", on_delete=models.CASCADE, related_name="inventory_levels"
    )
    sku = models.CharField("warehouse SKU", max_length=100)
    available = models.PositiveIntegerField()
    updated_at = models.DateTimeField(help_text="When the quantity last changed.")

    class Meta:
        db_table = "wms_inventorylevel"  # moved from the wms app with its table
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
        db_table = "wms_inventorychange"  # moved from the wms app with its table
        ordering = ["-changed_at", "-pk"]
        indexes = [
            # inventory_changed_since(): the push's "what changed since my last run".
            models.Index(fields=["warehouse", "changed_at"], name="inventory_change_since_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.previous} → {self.available}"


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
        db_table = "wms_heldinventorysnapshot"  # moved from the wms app with its table
        ordering = ["-created_at", "-pk"]
        verbose_name = "held inventory snapshot"
        indexes = [
            models.Index(fields=["warehouse"], name="held_snapshot_open_idx", condition=Q(state="held")),
        ]

    def __str__(self) -> str:
        return f"snapshot {self.pk} of {self.warehouse_id} ({self.get_state_display()})"

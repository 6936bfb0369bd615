import datetime as dt
import json
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from fulfillment.core.fields import EncryptedTextField


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            "%(value)s is not a time zone name (e.g. America/New_York).",
            params={"value": value},
        )


WEEKDAYS = "1234567"  # ISO: 1 = Monday


def validate_working_days(value: str) -> None:
    if not value or any(ch not in WEEKDAYS for ch in value) or len(set(value)) != len(value):
        raise ValidationError(
            "List the weekdays the warehouse ships as digits, 1 = Monday to 7 = Sunday, each once "
            "(e.g. 12345 for Monday to Friday)."
        )


class Warehouse(models.Model):
    """A fulfillment warehouse. Its address is the ship-from of every package."""

    code = models.CharField(
        max_length=32,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", "Use letters, digits, - and _ only.")],
        help_text="Short code the WMS and the command line use, e.g. NJ1.",
    )
    name = models.CharField(max_length=200)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="Inventory push times and date-only ship dates are in this zone.",
    )
    operations_email = models.EmailField(
        blank=True, help_text="Alerts (failing jobs, rejected confirmations) go here."
    )
    address_name = models.CharField("ship-from name", max_length=200, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state_or_region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country_code = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    phone = models.CharField(max_length=40, blank=True)
    # The shipping calendar: ship-risk (on track, at risk, late) counts the
    # cut-offs the warehouse still has before an order's ship-by.
    cutoff_time = models.TimeField(
        "carrier cut-off time",
        default=dt.time(14, 0),
        help_text="Last pickup of the day, in the warehouse's time zone: later, the next shipping day.",
    )
    working_days = models.CharField(
        "shipping weekdays",
        max_length=7,
        default="12345",
        validators=[validate_working_days],
        help_text="Weekdays the warehouse ships, 1 = Monday … 7 = Sunday (12345: Monday to Friday).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Holiday(models.Model):
    """A day a warehouse does not ship, though it is one of its shipping weekdays."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["warehouse", "date"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "date"], name="holiday_unique_per_warehouse")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


# --- Orders ------------------------------------------------------------------


# The WMS lists orders by ship-by with orders without one last, on every
# database: the key is the ship-by or, when there is none, a date no order has.
# The expression is the one the index is built on (order_wms_queue_idx), so a
# keyset page is an index range.
SHIP_BY_NONE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
WMS_SHIP_BY_KEY = Coalesce(F("ship_by_latest"), Value(SHIP_BY_NONE))


class OrderQuerySet(models.QuerySet):
    def held(self):
        return self.filter(status=Order.Status.HELD)

    def wms_stop_pending(self):
        """Released orders the warehouse must stop and has not yet acknowledged stopping.

        The WMS API's cancellations feed reads this: cancelled after release,
        a buyer cancellation request after release, or shipped outside the
        product after release.
        """
        return self.filter(wms_stop_requested_at__isnull=False, cancellation_acknowledged_at__isnull=True)


class Order(models.Model):
    """One Amazon order of one store, in the warehouse's words.

    Unique per (store, Amazon order id): the download upserts on it, so a
    rerun after a crash never imports an order twice.
    """

    class Status(models.TextChoices):
        HELD = "held", "Held"
        RELEASED = "released", "Released to warehouse"
        ACKNOWLEDGED = "acknowledged", "Acknowledged by warehouse"
        PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
        SHIPPED = "shipped", "Shipped"
        CANCELLED = "cancelled", "Cancelled"

    # The named sets of statuses, defined here once (the moves between them
    # are in transitions.py, the only code that writes `status`).
    #
    # The warehouse's: released and not closed. The download changes nothing
    # but cancellation-type facts on them, and only they take a package.
    FROZEN_STATUSES = (Status.RELEASED, Status.ACKNOWLEDGED, Status.PARTIALLY_SHIPPED)
    # Shipped or cancelled: the download leaves them alone.
    CLOSED_STATUSES = (Status.SHIPPED, Status.CANCELLED)
    OPEN_STATUSES = (Status.HELD, *FROZEN_STATUSES)
    # Open and without a package yet.
    UNSHIPPED_STATUSES = (Status.HELD, Status.RELEASED, Status.ACKNOWLEDGED)

    store = models.ForeignKey("connections.Store", on_delete=models.PROTECT, related_name="orders")
    amazon_order_id = models.CharField("Amazon order id", max_length=40)
    amazon_status = models.CharField(max_length=24, help_text="Amazon's fulfillment status, e.g. UNSHIPPED.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.HELD)
    marketplace_id = models.CharField(max_length=20, blank=True)
    fulfilled_by = models.CharField(max_length=10, blank=True)
    service_level = models.CharField(
        max_length=20, blank=True, help_text="Amazon's API value, e.g. NEXT_DAY."
    )
    is_prime = models.BooleanField("Prime", default=False, help_text="Seller Fulfilled Prime.")
    is_business = models.BooleanField("business order", default=False)
    is_gift = models.BooleanField(default=False)
    # Free text from the buyer (often names): personal data, encrypted like the recipient.
    gift_message = EncryptedTextField(blank=True)
    purchased_at = models.DateTimeField()
    amazon_updated_at = models.DateTimeField()
    ship_by_earliest = models.DateTimeField(null=True, blank=True)
    ship_by_latest = models.DateTimeField("ship by", null=True, blank=True)
    deliver_by_earliest = models.DateTimeField(null=True, blank=True)
    deliver_by_latest = models.DateTimeField("deliver by", null=True, blank=True)
    ship_to_country = models.CharField(max_length=2, blank=True)
    # Name, address and phone as JSON, encrypted at rest (buyer PII).
    recipient = EncryptedTextField(blank=True)
    carrier = models.CharField(max_length=100, blank=True)
    ship_code = models.CharField(max_length=100, blank=True)
    hold_reasons = models.JSONField(default=list, blank=True)
    buyer_cancellation_requested = models.BooleanField(default=False)
    released_at = models.DateTimeField(null=True, blank=True)
    # When the WMS took the order (POST .../acknowledge): the order timeline shows it.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    shipped_outside_at = models.DateTimeField(
        null=True, blank=True, help_text="Amazon reported it shipped without a shipment from the warehouse."
    )
    # Set by the `ship` move (transitions.py) when packages recorded here cover
    # the whole order; the download reads it to tell our shipment from one
    # made elsewhere, so `amazon_status` only ever holds what Amazon said.
    shipped_by_us_at = models.DateTimeField(
        "shipped by the warehouse at",
        null=True,
        blank=True,
        help_text="When the warehouse's packages covered the whole order.",
    )
    # Set when a released order must be stopped (cancelled, cancellation
    # requested, shipped elsewhere); the WMS acknowledges with the next field.
    wms_stop_requested_at = models.DateTimeField(null=True, blank=True)
    cancellation_acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-purchased_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "amazon_order_id"], name="order_unique_per_store"),
        ]
        indexes = [
            # The WMS polls released orders; the admin filters by status; the
            # dashboard counts open orders per store.
            models.Index(fields=["status", "store"], name="order_status_store_idx"),
            # The WMS order list per status, in its keyset order (ship-by, nulls
            # last, then id): a page at any depth is one index range.
            models.Index(F("status"), WMS_SHIP_BY_KEY, F("id"), name="order_wms_queue_idx"),
            # The same list without a status filter.
            models.Index(WMS_SHIP_BY_KEY, F("id"), name="order_wms_all_idx"),
            # The operator's first view, every open order by ship-by: a small index
            # of open orders only (the values of OPEN_STATUSES, in its order, so
            # the planner matches the list's `status IN (...)`).
            models.Index(
                WMS_SHIP_BY_KEY,
                F("id"),
                name="order_open_ship_by_idx",
                condition=models.Q(status__in=["held", "released", "acknowledged", "partially_shipped"]),
            ),
            # The admin list's default order (newest first), whole and per status.
            models.Index(fields=["purchased_at", "id"], name="order_purchased_idx"),
            models.Index(fields=["status", "purchased_at", "id"], name="order_status_purchased_idx"),
            # The admin list sorted by ship-by and its ship-by filter.
            models.Index(fields=["ship_by_latest"], name="order_ship_by_idx"),
            # The admin's search by Amazon order id (exact, any store).
            models.Index(fields=["amazon_order_id"], name="order_amazon_order_id_idx"),
            # The dashboard's orders-per-day chart (the last 14 days).
            models.Index(fields=["created_at"], name="order_created_idx"),
            # The WMS cancellations feed.
            models.Index(
                fields=["wms_stop_requested_at"],
                name="order_wms_stop_pending_idx",
                condition=models.Q(
                    wms_stop_requested_at__isnull=False, cancellation_acknowledged_at__isnull=True
                ),
            ),
        ]
        permissions = [("view_order_address", "Can see the buyer's ship-to address")]

    def __str__(self) -> str:
        return self.amazon_order_id

    @property
    def recipient_data(self) -> dict:
        return json.loads(self.recipient) if self.recipient else {}


class OrderLine(models.Model):
    """One Amazon order item. `components` are the warehouse SKUs resolved at release."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    order_item_id = models.CharField(max_length=40)
    amazon_sku = models.CharField("Amazon SKU", max_length=100, blank=True)
    asin = models.CharField("ASIN", max_length=20, blank=True)
    product_code = models.CharField(
        max_length=100,
        blank=True,
        help_text="The SKU or ASIN, as the store's setting says; mappings match it.",
    )
    title = models.CharField(max_length=500, blank=True)
    quantity_ordered = models.PositiveIntegerField()
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_cancelled = models.PositiveIntegerField(default=0)
    gift_message = EncryptedTextField(blank=True)
    # [{"warehouse_sku": "ABC-1", "units": 2}, ...]: one WMS line per entry,
    # quantity = Amazon units x units. Empty until released.
    components = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["order", "order_item_id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "order_item_id"], name="order_line_unique_per_order"),
        ]
        indexes = [models.Index(fields=["amazon_sku"], name="order_line_amazon_sku_idx")]

    def __str__(self) -> str:
        return f"{self.order_item_id} {self.amazon_sku or self.asin} x{self.quantity_ordered}"


class UnreadableOrder(models.Model):
    """An Amazon order the download could not read or store, set aside on its own.

    The rest of its page is written and the watermark moves; this row tells a
    person which order, which field and why, in words: never the value (it can
    be buyer data). *Retry* reads the order again with getOrder; once it reads,
    it goes the normal way and the row is marked resolved. A later download
    that reads the order fine resolves it too.
    """

    store = models.ForeignKey("connections.Store", on_delete=models.CASCADE, related_name="unreadable_orders")
    # Long enough for any id Amazon sends; a longer one is cut (it never reads anyway).
    amazon_order_id = models.CharField("Amazon order id", max_length=100, blank=True)
    field = models.CharField(
        "field at fault",
        max_length=200,
        blank=True,
        help_text="Where in Amazon's order, e.g. orderItems[0].quantityOrdered.",
    )
    reason = models.CharField(max_length=500)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    last_retry_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="When the order was read after all.")

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = "unreadable order"
        constraints = [
            # Orders without an id share one row per store (they cannot be retried).
            models.UniqueConstraint(
                fields=["store", "amazon_order_id"], name="unreadable_order_unique_per_store"
            )
        ]
        indexes = [models.Index(fields=["store", "resolved_at"], name="unreadable_order_open_idx")]

    def __str__(self) -> str:
        return self.amazon_order_id or "(order without an id)"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


# --- The download's progress ---------------------------------------------


class StoreSyncState(models.Model):
    """Per-store progress of the order download.

    `order_watermark` is Amazon's lastUpdatedTime up to which every order is
    known committed; it only moves forward, past a time slice whose pages
    were all committed.
    """

    store = models.OneToOneField("connections.Store", on_delete=models.CASCADE, related_name="sync_state")
    order_watermark = models.DateTimeField(null=True, blank=True)
    # A first download (orders created since "import since") that has not
    # completed yet: the latest createdTime it committed, and its window end.
    initial_import_cursor = models.DateTimeField(null=True, blank=True)
    initial_import_until = models.DateTimeField(null=True, blank=True)
    # The time slice being read (by creation on a first download, by update
    # later) and Amazon's nextToken after its last committed page: pages come
    # in no documented order, so the watermark moves only past a slice read
    # whole, and a run that died mid-slice resumes it here.
    slice_after = models.DateTimeField(null=True, blank=True)
    slice_before = models.DateTimeField(null=True, blank=True)
    slice_token = models.TextField(blank=True)
    # Orders per hour of window seen in the last slice read whole: sizes the next slices.
    orders_per_hour = models.FloatField(null=True, blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sync state of store {self.store_id}"


class NotificationReceipt(models.Model):
    """One ORDER_CHANGE notification the consumer took off the queue, and what became of it.

    The unique NotificationId is the deduplication: it is written in the same
    transaction as the order it brought, and the SQS message is deleted only
    after that commit, so a redelivered or duplicated message finds its row
    and changes nothing. A message that cannot be handled stays here as a dead
    letter (with its body, encrypted) until *Retry* handles it.
    """

    class Outcome(models.TextChoices):
        IMPORTED = "imported", "Order read (getOrder) and imported"
        WAITING_DOWNLOAD = "waiting_download", "Waiting for the store's download (burst)"
        BY_DOWNLOAD = "by_download", "Handled by the store's download (burst)"
        DROPPED = "dropped", "Dropped (see reason)"
        TEST = "test", "Test notification"
        DEAD = "dead", "Dead letter: could not be handled"

    # NotificationId, or "sqs:<MessageId>" for a message too broken to carry one.
    notification_id = models.CharField(max_length=200, unique=True)
    store = models.ForeignKey(
        "connections.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_receipts",
    )
    seller_id = models.CharField(max_length=64, blank=True)
    marketplace_id = models.CharField(max_length=32, blank=True)
    amazon_order_id = models.CharField("Amazon order id", max_length=100, blank=True)
    change_type = models.CharField(max_length=40, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True, help_text="Amazon's TimeOfOrderChange.")
    received_at = models.DateTimeField()
    handled_at = models.DateTimeField(null=True, blank=True)
    # Burst: when the store's download can see this change (Amazon's 2-minute rule).
    download_due_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    # Dead letters only (for Retry): the message as it came; emptied once handled.
    body = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["outcome", "store"], name="notification_receipt_outcome"),
            models.Index(fields=["store", "amazon_order_id"], name="notification_receipt_order"),
        ]

    def __str__(self) -> str:
        return f"{self.amazon_order_id or self.notification_id} ({self.get_outcome_display()})"

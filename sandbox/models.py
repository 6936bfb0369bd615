"""The sandbox's own tables: an emulated Amazon (LWA, sellers, orders, feeds, listings).

Nothing here is the product's data; the product only sees it through HTTP, at
`SP_API_ENDPOINT` and `LWA_TOKEN_URL`. Secrets here are fake by construction
(sandbox credentials), so they are stored as plain text on purpose: the admin
shows them so a developer can copy them into a test or a curl call.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class SandboxApplication(models.Model):
    """An SP-API application registered with the emulated Amazon (LWA client)."""

    name = models.CharField(max_length=100, default="Fulfillment bridge")
    client_id = models.CharField(max_length=200, unique=True)
    client_secret = models.CharField(max_length=200)
    application_id = models.CharField(max_length=200, unique=True, help_text="SP_API_APP_ID.")
    redirect_uri = models.URLField(max_length=500, help_text="Where consent sends the merchant back.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SandboxSeller(models.Model):
    """A selling partner account of the emulated Amazon."""

    selling_partner_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    marketplaces = models.ManyToManyField("connections.Marketplace", related_name="+")
    # Participations Amazon reports other than active (getMarketplaceParticipations);
    # a marketplace here is listed even when not among `marketplaces`.
    not_participating_in = models.ManyToManyField(
        "connections.Marketplace",
        related_name="+",
        blank=True,
        help_text="Answered with isParticipating: false (account suspended or closed there).",
    )
    listings_suspended_in = models.ManyToManyField(
        "connections.Marketplace",
        related_name="+",
        blank=True,
        help_text="Answered with hasSuspendedListings: true (listing status Inactive there).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["selling_partner_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.selling_partner_id})" if self.name else self.selling_partner_id


class SandboxRefreshToken(models.Model):
    """A seller's authorization of an application; revoking it fails the next grant."""

    application = models.ForeignKey(SandboxApplication, on_delete=models.CASCADE, related_name="+")
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="refresh_tokens")
    token = models.CharField(max_length=500, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.seller} · {self.token[:12]}…"


class SandboxAuthorizationCode(models.Model):
    """`spapi_oauth_code`: single use, five minutes."""

    application = models.ForeignKey(SandboxApplication, on_delete=models.CASCADE, related_name="+")
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=100, unique=True)
    redirect_uri = models.URLField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.code


class SandboxAccessToken(models.Model):
    """An LWA access token (`Atza|…`); one hour. Grantless tokens have no seller."""

    application = models.ForeignKey(SandboxApplication, on_delete=models.CASCADE, related_name="+")
    seller = models.ForeignKey(
        SandboxSeller, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    token = models.CharField(max_length=200, unique=True)
    scope = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.token[:14]}…"


class SandboxListing(models.Model):
    """A seller's offer in a marketplace with the quantity Amazon would show."""

    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="listings")
    marketplace = models.ForeignKey("connections.Marketplace", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(max_length=200)
    asin = models.CharField(max_length=10, blank=True)
    title = models.CharField(max_length=300, blank=True)
    fulfillment_channel_code = models.CharField(max_length=40, default="DEFAULT")
    quantity = models.IntegerField(default=0)
    lead_time_to_ship_max_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # The merchant's restock date (fulfillment_availability.restock_date).
    restock_date = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["seller", "sku"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "marketplace", "sku"], name="sandbox_listing_unique_sku"
            )
        ]

    def __str__(self) -> str:
        return self.sku


class FulfillmentStatus(models.TextChoices):
    """Orders API 2026-01-01 `FulfillmentStatus`."""

    PENDING_AVAILABILITY = "PENDING_AVAILABILITY"
    PENDING = "PENDING"
    UNSHIPPED = "UNSHIPPED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"
    UNFULFILLABLE = "UNFULFILLABLE"


class ServiceLevel(models.TextChoices):
    STANDARD = "STANDARD"
    EXPEDITED = "EXPEDITED"
    SECOND_DAY = "SECOND_DAY"
    NEXT_DAY = "NEXT_DAY"
    PRIORITY = "PRIORITY"
    SAME_DAY = "SAME_DAY"
    SCHEDULED = "SCHEDULED"
    FREE_ECONOMY = "FREE_ECONOMY"


class PoisonKind(models.TextChoices):
    """How a poison order breaks Amazon's model on the wire (the sandbox's answers
    are otherwise valid against it; these are deliberately not)."""

    QUANTITY_NOT_INTEGER = "quantity_not_integer", "quantityOrdered is not an integer"
    QUANTITY_NEGATIVE = "quantity_negative", "quantityOrdered is negative"
    QUANTITY_TOO_LARGE = "quantity_too_large", "quantityOrdered does not fit a 32-bit integer"
    FULFILLMENT_MISSING = "fulfillment_missing", "no fulfillment block"
    ITEM_ID_MISSING = "item_id_missing", "an item without orderItemId"
    SKU_TOO_LONG = "sku_too_long", "a sellerSku of 300 characters"
    SERVICE_LEVEL_TOO_LONG = "service_level_too_long", "a fulfillmentServiceLevel of 60 characters"
    TIME_WITHOUT_ZONE = "time_without_zone", "createdTime without a time zone"
    # Valid against the model, but nothing a warehouse can ship:
    NO_ITEMS = "no_items", "no items (valid, nothing to ship)"
    ZERO_QUANTITIES = "zero_quantities", "every quantityOrdered 0 (valid, nothing to ship)"


class SandboxOrder(models.Model):
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="orders")
    marketplace = models.ForeignKey("connections.Marketplace", on_delete=models.PROTECT, related_name="+")
    order_id = models.CharField(max_length=19, unique=True)
    created_time = models.DateTimeField()
    last_updated_time = models.DateTimeField()
    status = models.CharField(max_length=24, choices=FulfillmentStatus.choices, default="UNSHIPPED")
    fulfilled_by = models.CharField(max_length=8, default="MERCHANT")
    service_level = models.CharField(max_length=16, choices=ServiceLevel.choices, default="STANDARD")
    # e.g. ["PRIME"], ["AMAZON_BUSINESS"]
    programs = models.JSONField(default=list, blank=True)
    ship_by_earliest = models.DateTimeField(null=True, blank=True)
    ship_by_latest = models.DateTimeField(null=True, blank=True)
    deliver_by_earliest = models.DateTimeField(null=True, blank=True)
    deliver_by_latest = models.DateTimeField(null=True, blank=True)
    # Amazon's `Buyer` and `CustomerAddress` objects as the wire carries them.
    buyer = models.JSONField(default=dict, blank=True)
    delivery_address = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    poison = models.CharField(
        max_length=32,
        choices=PoisonKind.choices,
        blank=True,
        help_text="POISON ORDER: searchOrders and getOrder send this order broken this way "
        "(breaking Amazon's model on purpose). Empty: a well-formed order.",
    )

    class Meta:
        ordering = ["-last_updated_time", "order_id"]
        indexes = [
            # searchOrders pages by (lastUpdatedTime, orderId) or (createdTime, orderId).
            models.Index(fields=["seller", "last_updated_time", "order_id"], name="sandbox_order_updated"),
            models.Index(fields=["seller", "created_time", "order_id"], name="sandbox_order_created"),
        ]

    def __str__(self) -> str:
        return self.order_id


class SandboxOrderItem(models.Model):
    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="items")
    order_item_id = models.CharField(max_length=20)
    sku = models.CharField(max_length=200)
    asin = models.CharField(max_length=10)
    title = models.CharField(max_length=300)
    quantity_ordered = models.PositiveIntegerField()
    quantity_shipped = models.PositiveIntegerField(default=0)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    gift_message = models.CharField(max_length=500, blank=True)
    gift_wrap_level = models.CharField(max_length=100, blank=True)
    buyer_cancel_requested = models.BooleanField(default=False)
    buyer_cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["order", "order_item_id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "order_item_id"], name="sandbox_order_item_unique")
        ]

    def __str__(self) -> str:
        return self.order_item_id

    @property
    def quantity_unshipped(self) -> int:
        return self.quantity_ordered - self.quantity_shipped


class SandboxPackage(models.Model):
    """A package confirmed with confirmShipment (v0)."""

    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="packages")
    package_reference_id = models.CharField(max_length=40)
    carrier_code = models.CharField(max_length=100)
    carrier_name = models.CharField(max_length=100, blank=True)
    shipping_method = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100)
    ship_date = models.DateTimeField()
    # [{"orderItemId": "...", "quantity": 1}]
    items = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "package_reference_id"], name="sandbox_package_unique_ref"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.package_reference_id}"


class SandboxFeedDocument(models.Model):
    """An uploaded feed or a processing report."""

    document_id = models.CharField(max_length=60, unique=True)
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="+")
    content_type = models.CharField(max_length=100)
    content = models.BinaryField(null=True, blank=True, editable=False)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.document_id


class SandboxFeed(models.Model):
    class Status(models.TextChoices):
        IN_QUEUE = "IN_QUEUE"
        IN_PROGRESS = "IN_PROGRESS"
        DONE = "DONE"
        FATAL = "FATAL"
        CANCELLED = "CANCELLED"

    feed_id = models.CharField(max_length=20, unique=True)
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="feeds")
    feed_type = models.CharField(max_length=100)
    marketplace_ids = models.JSONField(default=list)
    input_document = models.ForeignKey(SandboxFeedDocument, on_delete=models.PROTECT, related_name="+")
    result_document = models.ForeignKey(
        SandboxFeedDocument, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_QUEUE)
    created_time = models.DateTimeField()
    processing_start_time = models.DateTimeField(null=True, blank=True)
    processing_end_time = models.DateTimeField(null=True, blank=True)
    messages_accepted = models.PositiveIntegerField(default=0)
    messages_invalid = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_time"]

    def __str__(self) -> str:
        return self.feed_id


class SandboxRateBucket(models.Model):
    """Token bucket state per (seller or application, operation), shared by every web process."""

    caller = models.CharField(max_length=64)
    operation = models.CharField(max_length=64)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["caller", "operation"]
        constraints = [models.UniqueConstraint(fields=["caller", "operation"], name="sandbox_bucket_unique")]

    def __str__(self) -> str:
        return f"{self.caller} {self.operation}"


class PageOrder(models.TextChoices):
    """The order searchOrders serves its pages in. Amazon documents none."""

    OLDEST_FIRST = "oldest_first", "Oldest first"
    NEWEST_FIRST = "newest_first", "Newest first"
    SHUFFLED = "shuffled", "Shuffled"


class SandboxFaults(models.Model):
    """Fault switches for every SP-API call of the sandbox (one row, pk=1)."""

    error_rate = models.FloatField(
        default=0.0, help_text="Share of calls answered 500 or 503 (0–1). 503s are HTML, as Amazon's LB."
    )
    slow_ms = models.PositiveIntegerField(default=0, help_text="Sleep this long before answering.")
    drop_rate = models.FloatField(default=0.0, help_text="Share of calls answered with an empty 502.")
    throttle_storm = models.BooleanField(default=False, help_text="Answer every call 429.")
    change_order_between_pages = models.BooleanField(
        default=False,
        help_text="On page 2+ of searchOrders, bump lastUpdatedTime of an order from an earlier page.",
    )
    page_order = models.CharField(
        "searchOrders page order",
        max_length=12,
        choices=PageOrder.choices,
        default=PageOrder.OLDEST_FIRST,
        help_text="Amazon promises no order: serve a search's pages oldest first, newest first, "
        "or shuffled (a search keeps the order it started with).",
    )
    search_page_cap = models.PositiveSmallIntegerField(
        default=0,
        help_text="searchListingsItems serves at most this many items per page whatever pageSize asks "
        "(0: as asked); clients must follow nextToken.",
    )
    # ORDER_CHANGE notifications: what Amazon's delivery allows (at-least-once, no order).
    notification_duplicates = models.BooleanField(
        default=False, help_text="Send every ORDER_CHANGE notification twice (SQS delivers at least once)."
    )
    notification_out_of_order = models.BooleanField(
        default=False,
        help_text="Delay each notification by 0–5 s at random, so they arrive out of order.",
    )
    notification_stray = models.BooleanField(
        default=False,
        help_text="With each notification also send one for a seller and marketplace no store knows.",
    )
    notification_drop_rate = models.FloatField(
        default=0.0, help_text="Share of notifications never sent (0–1): the download must find those orders."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sandbox faults"
        verbose_name_plural = "sandbox faults"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="sandbox_faults_singleton")]

    def __str__(self) -> str:
        return "Fault switches"

    @classmethod
    def current(cls) -> SandboxFaults:
        return cls.objects.get_or_create(pk=1)[0]


class SandboxNotificationDestination(models.Model):
    """A destination an application created (createDestination): an SQS queue by its ARN."""

    application = models.ForeignKey(SandboxApplication, on_delete=models.CASCADE, related_name="+")
    destination_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=256)
    sqs_arn = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.sqs_arn})"


class SandboxNotificationSubscription(models.Model):
    """A seller's ORDER_CHANGE subscription for an application (createSubscription)."""

    application = models.ForeignKey(SandboxApplication, on_delete=models.CASCADE, related_name="+")
    seller = models.ForeignKey(SandboxSeller, on_delete=models.CASCADE, related_name="+")
    notification_type = models.CharField(max_length=64, default="ORDER_CHANGE")
    subscription_id = models.CharField(max_length=64, unique=True)
    destination = models.ForeignKey(
        SandboxNotificationDestination, on_delete=models.CASCADE, related_name="+"
    )
    payload_version = models.CharField(max_length=8, default="1.0")
    # The eventFilter's marketplaceIds and orderChangeTypes (empty: all).
    marketplace_ids = models.JSONField(default=list, blank=True)
    order_change_types = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seller", "notification_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "seller", "notification_type"], name="sandbox_subscription_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.notification_type} of {self.seller}"

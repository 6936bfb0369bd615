import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from fulfillment.core.fields import EncryptedTextField


class Marketplace(models.Model):
    """An Amazon marketplace: reference data shipped as a data migration."""

    class Region(models.TextChoices):
        NORTH_AMERICA = "NA", "North America"
        EUROPE = "EU", "Europe"
        FAR_EAST = "FE", "Far East"

    code = models.CharField(max_length=2, unique=True, help_text="Country code, e.g. US.")
    country = models.CharField(max_length=100)
    marketplace_id = models.CharField(max_length=20, unique=True)
    region = models.CharField(max_length=2, choices=Region.choices)
    aws_region = models.CharField(max_length=20)
    sp_api_endpoint = models.URLField()
    seller_central_url = models.URLField(help_text="Where merchants consent to our app.")
    currency = models.CharField(max_length=3)
    default_language = models.CharField(max_length=10)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.country})"

    @property
    def amazon_code(self) -> str:
        """The code in Amazon's marketplace table (UK where ISO says GB)."""
        from .reference_data import AMAZON_COUNTRY_CODES

        return AMAZON_COUNTRY_CODES.get(self.code, self.code)


class AcceptedCarrier(models.Model):
    """A carrier code Amazon accepts in shipment confirmations for a marketplace.

    `Other` is always accepted and then needs a carrier name.
    """

    marketplace = models.ForeignKey(Marketplace, on_delete=models.CASCADE, related_name="accepted_carriers")
    code = models.CharField(max_length=100)

    class Meta:
        ordering = ["marketplace", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["marketplace", "code"], name="accepted_carrier_unique_per_marketplace"
            )
        ]

    def __str__(self) -> str:
        return self.code


# Orders API 2026-01-01 fulfillment statuses a store can import.
class OrderStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    UNSHIPPED = "UNSHIPPED", "Unshipped"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED", "Partially shipped"
    SHIPPED = "SHIPPED", "Shipped"
    CANCELLED = "CANCELLED", "Cancelled"
    UNFULFILLABLE = "UNFULFILLABLE", "Unfulfillable"


def default_import_statuses() -> list[str]:
    return [OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED]


_COUNTRY_LIST_RE = re.compile(r"^[A-Z]{2}(,[A-Z]{2})*$")
_TIMES_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def normalize_country_list(value: str) -> str:
    """'us, ca' -> 'US,CA' so people can type codes the way they think of them."""
    return ",".join(c.strip().upper() for c in value.split(",") if c.strip())


def normalize_push_times(value: str) -> str:
    return ",".join(p.strip() for p in value.split(",") if p.strip())


def validate_import_statuses(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one order status to import.")
    unknown = [v for v in value if v not in OrderStatus.values]
    if unknown:
        raise ValidationError(
            "Unknown order status %(unknown)s; use one of %(known)s.",
            params={"unknown": ", ".join(map(str, unknown)), "known": ", ".join(OrderStatus.values)},
        )


def validate_country_list(value: str) -> None:
    if value and not _COUNTRY_LIST_RE.match(value):
        raise ValidationError(
            "Use two-letter country codes separated by commas (e.g. US,CA), or leave blank for all."
        )


def validate_push_times(value: str) -> None:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts:
        raise ValidationError("Give at least one time of day, e.g. 06:00,18:00.")
    bad = [p for p in parts if not _TIMES_RE.match(p)]
    if bad:
        raise ValidationError(
            "%(bad)s is not a time of day in HH:MM (24-hour).", params={"bad": ", ".join(bad)}
        )


class Merchant(models.Model):
    """A warehouse's client: owns one or more stores. Merchant users see only its rows."""

    name = models.CharField(max_length=200, unique=True)
    email = models.EmailField(blank=True, help_text="Where re-authorization links are sent by default.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MerchantMembership(models.Model):
    """A user who works for a merchant: in the "Merchant user" group they see only its rows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="merchant_memberships"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "ops_merchantmembership"  # moved from the ops app with its table
        ordering = ["merchant", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="merchant_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant}"


class StoreQuerySet(models.QuerySet):
    def connected(self):
        return self.filter(is_active=True, authorization_status=Store.Authorization.CONNECTED)


class Store(models.Model):
    """One merchant's Amazon store in one marketplace: the unit every job runs for."""

    class Platform(models.TextChoices):
        SELLER_CENTRAL = "amazon_seller_central", "Amazon Seller Central"

    class Authorization(models.TextChoices):
        NOT_CONNECTED = "not_connected", "Not connected"
        AWAITING_MERCHANT = "awaiting_merchant", "Link sent to merchant"
        AUTHORIZED_BY_MERCHANT = "authorized_by_merchant", "Authorized by merchant"
        CONNECTED = "connected", "Connected"
        NEEDS_REAUTHORIZATION = "needs_reauthorization", "Needs re-authorization"

    class FulfillmentChannel(models.TextChoices):
        MFN = "MFN", "Merchant fulfilled (MFN)"
        AFN = "AFN", "Fulfilled by Amazon (AFN)"

    class ProductCode(models.TextChoices):
        SKU = "SKU", "Seller SKU"
        ASIN = "ASIN", "ASIN"

    name = models.CharField(
        "nickname", max_length=100, unique=True, help_text="Unique; CSV files name stores by it."
    )
    marketplace = models.ForeignKey(Marketplace, on_delete=models.PROTECT, related_name="stores")
    warehouse = models.ForeignKey("fulfillment.Warehouse", on_delete=models.PROTECT, related_name="stores")
    platform = models.CharField(max_length=32, choices=Platform.choices, default=Platform.SELLER_CENTRAL)
    merchant_email = models.EmailField(blank=True)
    # Role scoping (fulfillment/ops/roles.py): a merchant user sees only its merchant's stores.
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, null=True, blank=True, related_name="stores"
    )

    # Authorization
    selling_partner_id = models.CharField(max_length=32, blank=True)
    authorization_status = models.CharField(
        max_length=32, choices=Authorization.choices, default=Authorization.NOT_CONNECTED
    )
    refresh_token = EncryptedTextField(blank=True, editable=False)
    authorized_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_connection_test_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_connection_test_ok = models.BooleanField(null=True, editable=False)
    last_connection_test_message = models.TextField(blank=True, editable=False)
    authorization_error = models.TextField(
        blank=True, editable=False, help_text="Why Amazon stopped accepting the authorization, if it did."
    )

    # Order download
    fulfillment_channel = models.CharField(
        max_length=3, choices=FulfillmentChannel.choices, default=FulfillmentChannel.MFN
    )
    import_order_statuses = models.JSONField(
        default=default_import_statuses,
        validators=[validate_import_statuses],
        help_text="Amazon statuses of new orders to download.",
    )
    ship_to_countries = models.CharField(
        max_length=300,
        blank=True,
        validators=[validate_country_list],
        help_text="Only orders shipping to these countries (e.g. US,CA). Blank: all.",
    )
    import_since = models.DateTimeField(
        null=True, blank=True, help_text="First download starts here. Blank: 7 days back."
    )
    order_pull_minutes = models.PositiveSmallIntegerField(
        "order pull interval (minutes)",
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(1440)],
    )
    product_code_field = models.CharField(
        max_length=4,
        choices=ProductCode.choices,
        default=ProductCode.SKU,
        help_text="Which Amazon code identifies the product in SKU mappings.",
    )
    unmapped_sku_is_warehouse_sku = models.BooleanField(
        "unmapped Amazon SKU = warehouse SKU",
        default=True,
        help_text="Where no SKU mapping exists, ship the Amazon SKU as the warehouse SKU.",
    )

    # Inventory push
    inventory_sync_enabled = models.BooleanField(default=True)
    inventory_push_times = models.CharField(
        max_length=200,
        default="06:00,18:00",
        validators=[validate_push_times],
        help_text="Times of day (warehouse time zone), comma-separated.",
    )
    fulfillment_latency = models.PositiveSmallIntegerField(
        "fulfillment latency (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Handling time sent with every quantity (1–30). Blank: Amazon's default.",
    )
    fulfillment_channel_code = models.CharField(max_length=40, default="DEFAULT")
    remote_fulfillment_with_fba = models.BooleanField(
        "remote fulfillment with FBA",
        default=False,
        help_text="Off: SKUs Amazon reports as Amazon-fulfilled are skipped by the inventory push.",
    )

    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StoreQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        # Finalizing a merchant's authorization is the warehouse admin's step
        # (fulfillment/ops/roles.py): merchant users cannot finalize their own store.
        permissions = [("finalize_store_authorization", "Can finalize a merchant's authorization")]
        constraints = [
            models.UniqueConstraint(
                fields=["selling_partner_id", "marketplace"],
                condition=~Q(selling_partner_id=""),
                name="store_unique_selling_partner_per_marketplace",
                violation_error_message=(
                    "This Amazon seller is already connected as another store in this marketplace."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ship_to_country_list(self) -> list[str]:
        return [c for c in self.ship_to_countries.split(",") if c]

    @property
    def push_times(self) -> list[dt.time]:
        return [dt.time.fromisoformat(p.strip()) for p in self.inventory_push_times.split(",") if p.strip()]

    @property
    def is_connected(self) -> bool:
        return self.authorization_status == self.Authorization.CONNECTED


class MerchantLink(models.Model):
    """One authorization link emailed to a merchant: random, single-use, expiring.

    Only the token's sha256 is kept (the email holds the token). Sending a new
    link for a store revokes the store's open ones; a successful consent uses
    the link and revokes any other. Rows are purged once expired.
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="merchant_links")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Sent for a store already connected, after a person asked for it: the
    # merchant renews the authorization (same seller) and the store stays connected.
    reauthorization = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"], name="merchant_link_expires_idx")]

    def __str__(self) -> str:
        return f"{self.store} → {self.email} ({self.created_at:%Y-%m-%d %H:%M})"


class OAuthState(models.Model):
    """One authorization attempt: the `state` sent to Amazon's consent page.

    The value given to Amazon is this row's nonce signed with Django's signer;
    the row makes it single-use (consumed by a compare-and-set UPDATE) and
    ties it to the store and to the flow that started it.
    """

    class Flow(models.TextChoices):
        SELF = "self", "Merchant managing its own account"
        MERCHANT_LINK = "merchant_link", "Link sent to merchant"

    nonce = models.CharField(max_length=64, unique=True)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="oauth_states")
    flow = models.CharField(max_length=20, choices=Flow.choices)
    # The emailed link this consent was started from (merchant flow only): the
    # callback uses the link, so a link that was replaced meanwhile connects nothing.
    merchant_link = models.ForeignKey(
        MerchantLink, on_delete=models.CASCADE, null=True, blank=True, related_name="oauth_states"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "OAuth state"  # not "o auth state" in the permission lists
        indexes = [models.Index(fields=["expires_at"], name="oauth_state_expires_idx")]

    def __str__(self) -> str:
        return f"{self.store} ({self.get_flow_display()}, {self.created_at:%Y-%m-%d %H:%M})"


class RateLimitBucket(models.Model):
    """A token bucket shared by every process calling SP-API for one seller,
    region and operation (Amazon throttles per selling partner and application).

    Times are Unix seconds as floats so one transaction can refill and take a
    token with plain arithmetic, on SQLite (demo) and PostgreSQL alike.
    """

    selling_partner_id = models.CharField(max_length=64)
    region = models.CharField(max_length=8)
    operation = models.CharField(max_length=64)
    rate = models.FloatField(help_text="Tokens per second (x-amzn-RateLimit-Limit when Amazon sends it).")
    burst = models.FloatField()
    tokens = models.FloatField(help_text="Below zero: calls already promised a later slot.")
    updated_at = models.FloatField(help_text="Unix time of the last refill.")
    # Counted in the same UPDATE that takes a token (no extra write); /metrics sums them.
    calls = models.PositiveBigIntegerField(default=0, help_text="Calls made through this bucket.")
    throttled = models.PositiveBigIntegerField(default=0, help_text="429s Amazon answered.")

    class Meta:
        ordering = ["selling_partner_id", "region", "operation"]
        constraints = [
            models.UniqueConstraint(
                fields=["selling_partner_id", "region", "operation"], name="rate_limit_bucket_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.selling_partner_id}/{self.region}/{self.operation}"


class NotificationDestination(models.Model):
    """The application's SQS queue registered with Amazon (createDestination, grantless):
    one per SP-API region and queue, shared by every store of that region."""

    region = models.CharField(max_length=2)
    queue_arn = models.CharField(max_length=1000)
    destination_id = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["region"]
        constraints = [
            models.UniqueConstraint(fields=["region", "queue_arn"], name="notification_destination_unique")
        ]

    def __str__(self) -> str:
        return f"{self.region} → {self.queue_arn}"


class NotificationSubscription(models.Model):
    """A store's ORDER_CHANGE subscription at Amazon (createSubscription), and its state.

    Made while the store is active and connected and SQS_QUEUE_URL is set,
    removed otherwise (connections/notifications.py). Active means orders
    arrive within a minute; the scheduled download then runs hourly only.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Not subscribed yet"
        ACTIVE = "active", "Active"
        FAILED = "failed", "Failed (see error)"
        REMOVED = "removed", "Removed"

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="notification_subscription")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    subscription_id = models.CharField(max_length=200, blank=True)
    destination_id = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    last_test_sent_at = models.DateTimeField(null=True, blank=True)
    last_test_received_at = models.DateTimeField(
        null=True, blank=True, help_text="A test notification came back through the queue and was consumed."
    )
    last_notification_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["store"]

    def __str__(self) -> str:
        return f"ORDER_CHANGE of {self.store_id}: {self.get_state_display()}"

    @property
    def is_healthy(self) -> bool:
        return self.state == self.State.ACTIVE

"""The mappings that turn an Amazon order into a warehouse order and a
warehouse shipment into an Amazon confirmation. Warehouse admins keep them in
the admin and bulk-import them from CSV (see `mappings.imports`)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from .service_levels import ServiceLevel, service_level_normalize

__all__ = [
    "OTHER_CARRIER",
    "CarrierMapping",
    "ImportJob",
    "ServiceLevel",
    "ShippingMethodMapping",
    "SkuMapping",
    "service_level_normalize",
]

# Amazon always accepts this code, and then needs a carrier name.
OTHER_CARRIER = "Other"


class SkuMapping(models.Model):
    """One warehouse SKU that (part of) an Amazon SKU ships as.

    A kit is several rows for one Amazon SKU. Without any row the Amazon SKU
    ships as itself only when the store says so (`unmapped_sku_is_warehouse_sku`).
    """

    store = models.ForeignKey("connections.Store", on_delete=models.CASCADE, related_name="sku_mappings")
    amazon_sku = models.CharField("Amazon SKU", max_length=100)
    asin = models.CharField("ASIN", max_length=10, blank=True)
    warehouse_sku = models.CharField("warehouse SKU", max_length=100)
    units = models.PositiveIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="Units of the warehouse SKU in one Amazon unit.",
    )
    sync_inventory = models.BooleanField(
        default=False, help_text="Only activated SKUs get their quantity pushed to Amazon."
    )
    buffer = models.PositiveIntegerField(
        "safety buffer", default=0, help_text="Held back from the quantity pushed to Amazon."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SKU mapping"
        ordering = ["store", "amazon_sku", "warehouse_sku"]
        constraints = [
            # The CSV natural key; the bulk import upserts on it (ON CONFLICT).
            models.UniqueConstraint(
                fields=["store", "amazon_sku", "warehouse_sku"], name="sku_mapping_unique_component"
            ),
            models.CheckConstraint(condition=Q(units__gte=1), name="sku_mapping_units_positive"),
        ]
        indexes = [
            # sku_components_for() on stores that identify products by ASIN.
            models.Index(fields=["store", "asin"], name="sku_mapping_store_asin"),
            # inventory_sku_mappings_for(): the inventory push reads only activated rows.
            models.Index(
                fields=["store", "warehouse_sku"],
                condition=Q(sync_inventory=True),
                name="sku_mapping_synced",
            ),
        ]

    def __str__(self) -> str:
        suffix = f" × {self.units}" if self.units != 1 else ""
        return f"{self.amazon_sku} → {self.warehouse_sku}{suffix}"


class ShippingMethodMapping(models.Model):
    """Amazon service level (and Prime or not) -> the warehouse's carrier and ship code.

    A store's own row, or a marketplace's default for the stores selling
    there; the store's own row wins. There is no default for every store:
    carriers and their codes are a country's, so a store whose marketplace has
    no row holds the order with a reason instead of borrowing another
    country's carrier. `prime` True: Prime orders only, False: non-Prime only,
    empty: both; the more specific row wins and a Prime order never uses a
    non-Prime row.
    """

    store = models.ForeignKey(
        "connections.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="shipping_method_mappings",
        help_text="Empty: the marketplace's default.",
    )
    marketplace = models.ForeignKey(
        "connections.Marketplace",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="shipping_method_defaults",
        help_text="With no store: the default for every store selling in this marketplace.",
    )
    service_level = models.CharField(max_length=20, choices=ServiceLevel.choices)
    prime = models.BooleanField(
        null=True, blank=True, help_text="Yes: Prime orders only. No: non-Prime only. Empty: both."
    )
    carrier = models.CharField("warehouse carrier", max_length=100)
    ship_code = models.CharField("warehouse ship code", max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["marketplace", "store", "service_level", "prime"]
        # Conditional constraints rather than nulls_distinct=False so they
        # also hold on SQLite (the demo), where NULLs are always distinct.
        constraints = [
            # A store's row or a marketplace's default, never both nor neither.
            models.CheckConstraint(
                condition=Q(store__isnull=False, marketplace__isnull=True)
                | Q(store__isnull=True, marketplace__isnull=False),
                name="shipping_method_store_or_marketplace",
            ),
            models.UniqueConstraint(
                fields=["store", "service_level", "prime"],
                condition=Q(store__isnull=False, prime__isnull=False),
                name="shipping_method_unique_store_prime",
            ),
            models.UniqueConstraint(
                fields=["store", "service_level"],
                condition=Q(store__isnull=False, prime__isnull=True),
                name="shipping_method_unique_store_any",
            ),
            models.UniqueConstraint(
                fields=["marketplace", "service_level", "prime"],
                condition=Q(store__isnull=True, prime__isnull=False),
                name="shipping_method_unique_default_prime",
            ),
            models.UniqueConstraint(
                fields=["marketplace", "service_level"],
                condition=Q(store__isnull=True, prime__isnull=True),
                name="shipping_method_unique_default_any",
            ),
        ]

    def __str__(self) -> str:
        prime = {True: " (Prime)", False: " (non-Prime)", None: ""}[self.prime]
        return f"{self.get_service_level_display()}{prime} → {self.carrier} {self.ship_code}"

    def clean(self) -> None:
        if self.service_level:
            try:
                self.service_level = service_level_normalize(self.service_level)
            except ValueError as e:
                raise ValidationError({"service_level": str(e)}) from e
        if self.store_id and self.marketplace_id:
            raise ValidationError(
                {
                    "marketplace": "Choose a store or a marketplace, not both: a store's own row "
                    "applies to that store, a marketplace's to every store selling there."
                }
            )
        if not self.store_id and not self.marketplace_id:
            raise ValidationError(
                {"marketplace": "Choose a store, or the marketplace whose stores this default is for."}
            )
        duplicate = ShippingMethodMapping.objects.filter(
            store=self.store,
            marketplace=None if self.store_id else self.marketplace,
            service_level=self.service_level,
            prime=self.prime,
        ).exclude(pk=self.pk)
        if duplicate.exists():
            raise ValidationError(
                "A mapping for this store (or marketplace), service level and Prime setting already "
                "exists; edit that one."
            )


class CarrierMapping(models.Model):
    """The warehouse's carrier string -> a carrier code Amazon accepts.

    No store: the default for every store; a store's own row wins. The match on
    the warehouse's string ignores case ("ups" and "UPS" are one carrier).
    """

    store = models.ForeignKey(
        "connections.Store",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="carrier_mappings",
        help_text="Empty: the default for every store.",
    )
    warehouse_carrier = models.CharField(max_length=100, help_text="As the WMS sends it, any case.")
    amazon_carrier_code = models.CharField(
        "Amazon carrier code", max_length=100, help_text="From the marketplace's accepted list, or Other."
    )
    amazon_carrier_name = models.CharField(
        "Amazon carrier name", max_length=100, blank=True, help_text="Required with Other."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store", "warehouse_carrier"]
        constraints = [
            models.UniqueConstraint(
                "store",
                Lower("warehouse_carrier"),
                condition=Q(store__isnull=False),
                name="carrier_mapping_unique_store",
            ),
            models.UniqueConstraint(
                Lower("warehouse_carrier"),
                condition=Q(store__isnull=True),
                name="carrier_mapping_unique_default",
            ),
            models.CheckConstraint(
                condition=~Q(amazon_carrier_code=OTHER_CARRIER) | ~Q(amazon_carrier_name=""),
                name="carrier_mapping_other_has_name",
            ),
        ]

    def __str__(self) -> str:
        target = self.amazon_carrier_code
        if self.amazon_carrier_name:
            target += f" ({self.amazon_carrier_name})"
        return f"{self.warehouse_carrier} → {target}"

    def clean(self) -> None:
        from connections.models import AcceptedCarrier

        errors = {}
        if self.amazon_carrier_code == OTHER_CARRIER and not self.amazon_carrier_name:
            errors["amazon_carrier_name"] = "Amazon needs a carrier name with the code Other."
        elif self.amazon_carrier_code and self.amazon_carrier_code != OTHER_CARRIER:
            accepted = AcceptedCarrier.objects.filter(code=self.amazon_carrier_code)
            if self.store_id:
                accepted = accepted.filter(marketplace_id=self.store.marketplace_id)
            if not accepted.exists():
                where = (
                    f"the {self.store.marketplace.code} marketplace" if self.store_id else "any marketplace"
                )
                errors["amazon_carrier_code"] = (
                    f"{self.amazon_carrier_code!r} is not a carrier code Amazon accepts in {where}; "
                    "use an accepted code or Other with a carrier name."
                )
        if self.warehouse_carrier:
            duplicate = CarrierMapping.objects.filter(
                store=self.store, warehouse_carrier__iexact=self.warehouse_carrier
            ).exclude(pk=self.pk)
            if duplicate.exists():
                errors["warehouse_carrier"] = "This carrier already has a mapping for this store."
        if errors:
            raise ValidationError(errors)


class ImportJob(models.Model):
    """One CSV file imported into a mapping table, all-or-nothing.

    Big files run as a django-q2 task that takes only this row's id; the
    admin reads the progress and the errors from here.
    """

    class Kind(models.TextChoices):
        SKU = "sku", "SKU mappings"
        SHIPPING_METHOD = "shipping_method", "Shipping method mappings"
        CARRIER = "carrier", "Carrier mappings"

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed, awaiting confirmation"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed: nothing written"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to="mappings/imports/%Y/%m/")
    file_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREVIEWED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_new = models.PositiveIntegerField(default=0)
    rows_changed = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    # [{"line": 3, "message": "..."}]; header is line 1.
    errors = models.JSONField(default=list, blank=True)
    # The preview's rows (mappings.imports.ImportReport.preview): added, changed (old → new), unchanged.
    preview = models.JSONField(default=list, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import #{self.pk} ({self.file_name})"

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)

"""The access audit: who saw a buyer's address or gift message, when, from where."""

from django.conf import settings
from django.db import models


class BuyerDataAccess(models.Model):
    """One view of one order's buyer data (address, gift message) by a person or a WMS key.

    Written by the screens and API answers that show it, one row per order
    shown; never changed; deleted after ACCESS_LOG_RETENTION_DAYS by the order
    data purge. Who and which order are also kept as text, so the row still
    says it after the user, key or order is deleted.
    """

    class Via(models.TextChoices):
        ADMIN_ORDER_PAGE = "admin_order", "Admin order page"
        API_ORDER = "api_order", "WMS API order"
        API_ORDER_LIST = "api_orders", "WMS API order list"
        CSV_EXPORT = "csv_export", "CSV export"

    accessed_at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    wms_key = models.ForeignKey(
        "wms.WmsApiKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="WMS key",
    )
    actor = models.CharField(
        "who", max_length=200, help_text="The user name, or the WMS key's name and start."
    )
    order = models.ForeignKey(
        "fulfillment.Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    store = models.ForeignKey(
        "connections.Store", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    amazon_order_id = models.CharField("Amazon order id", max_length=40)
    fields = models.JSONField(
        default=list, help_text="Which buyer data was shown, e.g. ship_to, gift_message."
    )
    via = models.CharField(max_length=16, choices=Via.choices)
    address = models.GenericIPAddressField("from address", null=True, blank=True)

    class Meta:
        ordering = ["-accessed_at", "-pk"]
        verbose_name = "buyer data access"
        verbose_name_plural = "buyer data accesses"
        indexes = [models.Index(fields=["order", "-accessed_at"], name="buyer_data_access_order_idx")]

    def __str__(self) -> str:
        return f"{self.actor} saw {', '.join(self.fields)} of {self.amazon_order_id}"

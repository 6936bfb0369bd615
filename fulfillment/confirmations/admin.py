"""Shipment confirmations in the admin: thin, every action calls a service."""

from __future__ import annotations

from django.contrib import admin, messages

from fulfillment.confirmations.models import ShipmentConfirmation
from fulfillment.confirmations.selectors import orders_refused_by_amazon
from fulfillment.confirmations.services import confirmations_resolve, confirmations_retry
from fulfillment.ops.roles import StoreScopedAdminMixin


@admin.register(ShipmentConfirmation)
class ShipmentConfirmationAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "order",
        "package_reference",
        "shipment",
        "store",
        "state",
        "attempts",
        "not_before",
        "amazon_message_short",
        "accepted_at",
    )
    list_filter = ("state", "store")
    list_select_related = ("order", "shipment", "store")
    search_fields = ("=order__amazon_order_id", "=shipment__tracking_number", "=shipment__package_id")
    search_help_text = "Amazon order id, tracking number or the WMS's package id (exact)."
    show_full_result_count = False  # one row per package: the table grows large
    actions = ("retry", "mark_resolved")
    fields = (
        "order",
        "shipment",
        "store",
        "package_reference",
        "state",
        "amazon_message",
        "last_error",
        "attempts",
        "not_before",
        "claimed_at",
        "sent_at",
        "accepted_at",
        "alerted_at",
        "resolved_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # rows come from shipments

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deleting one would let the package be forgotten

    @admin.display(description="Amazon's message")
    def amazon_message_short(self, obj: ShipmentConfirmation) -> str:
        text = obj.amazon_message or obj.last_error
        return text if len(text) <= 120 else text[:117] + "…"

    @admin.action(description="Retry", permissions=["change"])
    def retry(self, request, queryset) -> None:
        count = confirmations_retry(confirmation_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} confirmation(s) will be sent again now.", messages.SUCCESS)

    @admin.action(description="Mark resolved (fixed in Seller Central)", permissions=["change"])
    def mark_resolved(self, request, queryset) -> None:
        count = confirmations_resolve(
            confirmation_ids=list(queryset.values_list("pk", flat=True)), user=request.user.get_username()
        )
        self.message_user(request, f"{count} confirmation(s) marked resolved.", messages.SUCCESS)


class ShipmentConfirmationInline(admin.TabularInline):
    """Each package's confirmation state on the order page: add it to OrderAdmin.inlines."""

    model = ShipmentConfirmation
    fk_name = "order"
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "package confirmation"
    verbose_name_plural = "package confirmations to Amazon"
    fields = (
        "package_reference",
        "package_id",
        "tracking_number",
        "state",
        "attempts",
        "amazon_message",
        "accepted_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shipment").order_by("package_reference")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="package id")
    def package_id(self, obj: ShipmentConfirmation) -> str:
        return obj.shipment.package_id

    @admin.display(description="tracking")
    def tracking_number(self, obj: ShipmentConfirmation) -> str:
        return obj.shipment.tracking_number


class AmazonRefusedFilter(admin.SimpleListFilter):
    """Orders list: those shipped here whose confirmation Amazon refused."""

    title = "Amazon confirmation"
    parameter_name = "amazon_refused"

    def lookups(self, request, model_admin):
        return [("yes", "Shipped, Amazon refused")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return orders_refused_by_amazon(orders=queryset)
        return queryset

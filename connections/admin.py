from django.contrib import admin

from .forms import StoreForm
from .models import AcceptedCarrier, Marketplace, Store


class AcceptedCarrierInline(admin.TabularInline):
    model = AcceptedCarrier
    extra = 0


@admin.register(Marketplace)
class MarketplaceAdmin(admin.ModelAdmin):
    list_display = ("code", "country", "marketplace_id", "region", "currency", "default_language")
    list_filter = ("region",)
    search_fields = ("code", "country", "marketplace_id")
    inlines = [AcceptedCarrierInline]


@admin.register(AcceptedCarrier)
class AcceptedCarrierAdmin(admin.ModelAdmin):
    list_display = ("code", "marketplace")
    list_filter = ("marketplace",)
    list_select_related = ("marketplace",)
    search_fields = ("code",)


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    form = StoreForm
    list_display = (
        "name",
        "marketplace",
        "warehouse",
        "selling_partner_id",
        "authorization_status",
        "fulfillment_channel",
        "inventory_sync_enabled",
        "is_active",
    )
    list_filter = ("authorization_status", "is_active", "marketplace", "warehouse", "fulfillment_channel")
    list_select_related = ("marketplace", "warehouse")
    search_fields = ("name", "selling_partner_id", "merchant_email")
    readonly_fields = (
        "authorization_status",
        "authorized_at",
        "last_connection_test_at",
        "last_connection_test_ok",
        "last_connection_test_message",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "marketplace", "warehouse", "platform", "merchant_email", "is_active")}),
        (
            "Amazon authorization",
            {
                "fields": (
                    "selling_partner_id",
                    "authorization_status",
                    "authorized_at",
                    "last_connection_test_at",
                    "last_connection_test_ok",
                    "last_connection_test_message",
                )
            },
        ),
        (
            "Order download",
            {
                "fields": (
                    "fulfillment_channel",
                    "import_order_statuses",
                    "ship_to_countries",
                    "import_since",
                    "order_pull_minutes",
                    "product_code_field",
                    "unmapped_sku_is_warehouse_sku",
                )
            },
        ),
        (
            "Inventory push",
            {
                "fields": (
                    "inventory_sync_enabled",
                    "inventory_push_times",
                    "fulfillment_latency",
                    "fulfillment_channel_code",
                    "remote_fulfillment_with_fba",
                )
            },
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

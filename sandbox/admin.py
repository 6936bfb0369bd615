"""Read-mostly admin pages to look at what the emulated Amazon holds."""

from __future__ import annotations

from django.contrib import admin

from .models import (
    SandboxAccessToken,
    SandboxApplication,
    SandboxAuthorizationCode,
    SandboxFaults,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxListing,
    SandboxOrder,
    SandboxOrderItem,
    SandboxPackage,
    SandboxRateBucket,
    SandboxRefreshToken,
    SandboxSeller,
)
from .services import refresh_token_revoke


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the emulator writes itself: look, don't touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SandboxApplication)
class SandboxApplicationAdmin(admin.ModelAdmin):
    list_display = ("name", "client_id", "application_id", "redirect_uri")
    list_select_related = ()


@admin.register(SandboxSeller)
class SandboxSellerAdmin(admin.ModelAdmin):
    list_display = ("selling_partner_id", "name", "created_at")
    list_select_related = ()
    search_fields = ("selling_partner_id", "name")
    filter_horizontal = ("marketplaces", "not_participating_in", "listings_suspended_in")


@admin.register(SandboxRefreshToken)
class SandboxRefreshTokenAdmin(ReadOnlyAdmin):
    list_display = ("token", "seller", "application", "created_at", "revoked_at")
    list_select_related = ("seller", "application")
    list_filter = ("revoked_at",)
    actions = ("revoke",)

    @admin.action(description="Revoke (the next token grant with it fails)")
    def revoke(self, request, queryset):
        for token in queryset:
            refresh_token_revoke(token=token)


@admin.register(SandboxAuthorizationCode)
class SandboxAuthorizationCodeAdmin(ReadOnlyAdmin):
    list_display = ("code", "seller", "application", "created_at", "expires_at", "used_at")
    list_select_related = ("seller", "application")


@admin.register(SandboxAccessToken)
class SandboxAccessTokenAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "seller", "application", "scope", "expires_at")
    list_select_related = ("seller", "application")
    show_full_result_count = False


@admin.register(SandboxListing)
class SandboxListingAdmin(admin.ModelAdmin):
    list_display = ("sku", "seller", "marketplace", "quantity", "lead_time_to_ship_max_days", "updated_at")
    list_select_related = ("seller", "marketplace")
    search_fields = ("sku", "asin")


class SandboxOrderItemInline(admin.TabularInline):
    model = SandboxOrderItem
    extra = 0
    can_delete = False
    readonly_fields = (
        "order_item_id",
        "sku",
        "asin",
        "title",
        "quantity_ordered",
        "quantity_shipped",
        "unit_price",
        "gift_message",
        "buyer_cancel_requested",
    )
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class SandboxPackageInline(admin.TabularInline):
    model = SandboxPackage
    extra = 0
    can_delete = False
    readonly_fields = (
        "package_reference_id",
        "carrier_code",
        "carrier_name",
        "tracking_number",
        "ship_date",
        "items",
    )
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SandboxOrder)
class SandboxOrderAdmin(admin.ModelAdmin):
    list_display = (
        "order_id",
        "seller",
        "marketplace",
        "status",
        "service_level",
        "created_time",
        "last_updated_time",
    )
    list_select_related = ("seller", "marketplace")
    list_filter = ("status", "service_level")
    search_fields = ("order_id",)
    date_hierarchy = "created_time"
    show_full_result_count = False
    inlines = (SandboxOrderItemInline, SandboxPackageInline)
    readonly_fields = ("seller", "marketplace", "order_id", "created_time")


@admin.register(SandboxFeedDocument)
class SandboxFeedDocumentAdmin(ReadOnlyAdmin):
    list_display = ("document_id", "seller", "content_type", "created_at", "uploaded_at")
    list_select_related = ("seller",)


@admin.register(SandboxFeed)
class SandboxFeedAdmin(ReadOnlyAdmin):
    list_display = (
        "feed_id",
        "seller",
        "feed_type",
        "status",
        "created_time",
        "messages_accepted",
        "messages_invalid",
    )
    list_select_related = ("seller",)
    list_filter = ("status", "feed_type")


@admin.register(SandboxRateBucket)
class SandboxRateBucketAdmin(ReadOnlyAdmin):
    list_display = ("caller", "operation", "tokens", "updated_at")
    list_select_related = ()


@admin.register(SandboxFaults)
class SandboxFaultsAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "error_rate",
        "slow_ms",
        "drop_rate",
        "throttle_storm",
        "change_order_between_pages",
    )
    list_select_related = ()

    def has_add_permission(self, request):
        # One row (pk=1), made when the changelist is opened. No query here:
        # Django asks this on every admin page for the navigation sidebar.
        return False

    def changelist_view(self, request, extra_context=None):
        SandboxFaults.current()
        return super().changelist_view(request, extra_context)

    def has_delete_permission(self, request, obj=None):
        return False

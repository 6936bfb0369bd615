"""Read-mostly admin pages to look at what the emulated Amazon holds."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from connections.models import Marketplace

from .models import (
    FulfillmentStatus,
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
from .orders import (
    sandbox_now,
    sandbox_order_cancel,
    sandbox_order_ship_outside,
    sandbox_order_update,
    sandbox_orders_place,
)
from .sellers import refresh_token_revoke


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


class CreateOrdersForm(forms.Form):
    seller = forms.ModelChoiceField(queryset=SandboxSeller.objects.order_by("selling_partner_id"))
    marketplace = forms.ModelChoiceField(
        queryset=Marketplace.objects.order_by("code"), to_field_name="code", initial="US"
    )
    count = forms.IntegerField(min_value=1, max_value=1000, initial=5, label="How many orders")


@admin.register(SandboxOrder)
class SandboxOrderAdmin(admin.ModelAdmin):
    """Amazon's side of the demo: place orders now, cancel or ship them as Amazon would.

    Every change moves lastUpdatedTime (to the sandbox's "now"), so the next
    download of the product sees it.
    """

    list_display = (
        "order_id",
        "seller",
        "marketplace",
        "status",
        "buyer_cancellation_requested",
        "service_level",
        "created_time",
        "last_updated_time",
        "poison",
    )
    list_select_related = ("seller", "marketplace")
    list_filter = ("status", "service_level", "seller", "poison")
    search_fields = ("order_id",)
    date_hierarchy = "created_time"
    show_full_result_count = False
    inlines = (SandboxOrderItemInline, SandboxPackageInline)
    readonly_fields = ("seller", "marketplace", "order_id", "created_time", "last_updated_time")
    actions = ("cancel_orders", "request_buyer_cancellation", "ship_outside")
    change_list_template = "admin/sandbox/sandboxorder/change_list.html"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _cancel_requested=Exists(
                    SandboxOrderItem.objects.filter(order=OuterRef("pk"), buyer_cancel_requested=True)
                )
            )
        )

    @admin.display(boolean=True, description="Buyer asked to cancel")
    def buyer_cancellation_requested(self, obj) -> bool:
        return obj._cancel_requested

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        sandbox_order_update(
            order=obj, when=sandbox_now(), **{field: getattr(obj, field) for field in form.changed_data}
        )

    def _each(self, request, queryset, verb: str, change) -> None:
        done = skipped = 0
        for order in queryset:
            if order.status in (FulfillmentStatus.SHIPPED, FulfillmentStatus.CANCELLED):
                skipped += 1
                continue
            change(order)
            done += 1
        message = f"{done} order(s) {verb}; the next download of the store shows it."
        if skipped:
            message += f" {skipped} already shipped or cancelled, left alone."
        self.message_user(request, message, messages.SUCCESS if done else messages.WARNING)

    @admin.action(description="Cancel (Amazon cancels the order)", permissions=["change"])
    def cancel_orders(self, request, queryset):
        self._each(
            request, queryset, "cancelled", lambda o: sandbox_order_cancel(order=o, when=sandbox_now())
        )

    @admin.action(description="Buyer requests cancellation", permissions=["change"])
    def request_buyer_cancellation(self, request, queryset):
        self._each(
            request,
            queryset,
            "asked to be cancelled by the buyer",
            lambda o: sandbox_order_cancel(order=o, buyer_requested=True, when=sandbox_now()),
        )

    @admin.action(description="Ship in Seller Central (outside the bridge)", permissions=["change"])
    def ship_outside(self, request, queryset):
        self._each(
            request, queryset, "shipped", lambda o: sandbox_order_ship_outside(order=o, when=sandbox_now())
        )

    def get_urls(self):
        return [
            path(
                "create/",
                self.admin_site.admin_view(self.create_orders_view),
                name="sandbox_sandboxorder_create_orders",
            ),
            *super().get_urls(),
        ]

    def create_orders_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = CreateOrdersForm(request.POST or None, initial={"seller": SandboxSeller.objects.first()})
        if request.method == "POST" and form.is_valid():
            orders = sandbox_orders_place(
                seller=form.cleaned_data["seller"],
                count=form.cleaned_data["count"],
                marketplace_code=form.cleaned_data["marketplace"].code,
            )
            self.message_user(
                request,
                f"{len(orders)} orders placed for {form.cleaned_data['seller']} just now: "
                "press 'Pull orders now' on the store to download them.",
                messages.SUCCESS,
            )
            return redirect("admin:sandbox_sandboxorder_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Create N orders",
            "form": form,
        }
        return TemplateResponse(request, "admin/sandbox/sandboxorder/create_orders.html", context)


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
        "page_order",
        "search_page_cap",
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

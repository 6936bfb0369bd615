from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from connections.admin_scoping import StoreScopedAdminMixin
from connections.scoping import user_is_scoped
from fulfillment.inventory.admin_actions import push_inventory_full_now, push_inventory_now
from fulfillment.jobs.schedules import schedules_sync
from fulfillment.orders.admin_actions import pull_orders_now, resync_date_range, resync_view
from fulfillment.orders.admin_notifications import (
    NotificationSubscriptionInline,
    StoreNotificationsAdminMixin,
)

from . import services
from .forms import StoreForm
from .merchant_links import StoreAlreadyConnected, merchant_links_withdraw
from .models import AcceptedCarrier, Marketplace, Merchant, MerchantLink, MerchantMembership, Store
from .selectors import marketplaces_named

FINALIZE_PERMISSION = "connections.finalize_store_authorization"


class SendLinkForm(forms.Form):
    email = forms.EmailField(label="Merchant's email")
    reauthorize = forms.BooleanField(
        label="Yes, start a re-authorization",
        required=False,
        help_text="The store stays connected; the merchant renews the app's authorization with the same "
        "Amazon account.",
    )


class AcceptedCarrierInline(admin.TabularInline):
    model = AcceptedCarrier
    extra = 0


@admin.register(Marketplace)
class MarketplaceAdmin(admin.ModelAdmin):
    list_display = ("code", "country", "marketplace_id", "region", "currency", "default_language")
    list_filter = ("region",)
    search_fields = ("code", "country", "marketplace_id")
    inlines = [AcceptedCarrierInline]

    def get_search_results(self, request, queryset, search_term):
        # "UK" (Amazon's table) finds GB, as does the marketplace id.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            found = found | queryset.filter(pk__in=marketplaces_named(name=search_term).values("pk"))
        return found, may_have_duplicates


@admin.register(AcceptedCarrier)
class AcceptedCarrierAdmin(admin.ModelAdmin):
    list_display = ("code", "marketplace")
    list_filter = ("marketplace",)
    list_select_related = ("marketplace",)
    search_fields = ("code",)


@admin.register(Store)
class StoreAdmin(StoreNotificationsAdminMixin, StoreScopedAdminMixin, admin.ModelAdmin):
    # Merchant users see their merchant's stores only, and cannot move a store elsewhere.
    store_path = ""
    scoped_readonly_fields = ("merchant", "warehouse")
    form = StoreForm
    change_form_template = "connections/store_change_form.html"
    # The ORDER_CHANGE subscription's state (fulfillment/orders/admin_notifications.py).
    inlines = [NotificationSubscriptionInline]
    # The job actions queue a task per store; nothing in the request waits on Amazon.
    actions = [
        "test_connection",
        "finalize_authorization",
        pull_orders_now,
        resync_date_range,
        push_inventory_now,
        push_inventory_full_now,
    ]
    TEST_CONNECTION_BATCH = 10
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

    def get_search_results(self, request, queryset, search_term):
        # A marketplace by any of its names (US, UK or GB, A1F83G8C2ARO7P) finds its stores.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            named = marketplaces_named(name=search_term).values("pk")
            found = found | queryset.filter(marketplace__in=named)
        return found, may_have_duplicates

    readonly_fields = (
        "authorization_status",
        "authorization_error",
        "authorized_at",
        "last_connection_test_at",
        "last_connection_test_ok",
        "last_connection_test_message",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "marketplace",
                    "warehouse",
                    "merchant",
                    "platform",
                    "merchant_email",
                    "is_active",
                )
            },
        ),
        (
            "Amazon authorization",
            {
                "fields": (
                    "selling_partner_id",
                    "authorization_status",
                    "authorization_error",
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

    # --- The store's job schedules follow every change made here (fulfillment/jobs/schedules.py).

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Active or not, download interval, inventory sync and push times.
        schedules_sync(store=obj)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        schedules_sync()  # the deleted store's schedules go with it

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        schedules_sync()

    # --- Deleting a store: explain what happens to its orders, not a permission riddle.

    def delete_view(self, request, object_id, extra_context=None):
        store = self.get_object(request, object_id)
        if store is not None and self.has_delete_permission(request, store):
            orders = store.orders.count()
            if orders:
                # Orders are kept for their retention period (fulfillment.privacy), so they
                # protect their store: a store that sold anything is deactivated instead.
                return TemplateResponse(
                    request,
                    "connections/store_delete_refused.html",
                    {
                        **self.admin_site.each_context(request),
                        "opts": self.opts,
                        "title": f"The store “{store}” cannot be deleted",
                        "store": store,
                        "orders": orders,
                        "retention_days": settings.ORDER_DATA_RETENTION_DAYS,
                        "pii_days": settings.PII_RETENTION_DAYS,
                    },
                )
        return super().delete_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if self.has_delete_permission(request):
            # The store's own records (runs, mappings, settings, links) go with it even
            # though their pages do not delete them one by one; orders protect the store.
            perms_needed = set()
        return deleted, model_count, perms_needed, protected

    # --- Buttons on the store page and bulk actions; each calls a service.

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path("<int:store_id>/send-link/", wrap(self.send_link_view), name="connections_store_send_link"),
            path("<int:store_id>/finalize/", wrap(self.finalize_view), name="connections_store_finalize"),
            path(
                "<int:store_id>/resync/",
                wrap(self.resync_view),
                name="connections_store_resync",
            ),
            path(
                "<int:store_id>/test-connection/",
                wrap(self.test_connection_view),
                name="connections_store_test_connection",
            ),
            *super().get_urls(),
        ]

    def _store_for_change(self, request: HttpRequest, store_id: int) -> Store:
        store = get_object_or_404(Store.objects.select_related("marketplace", "warehouse"), pk=store_id)
        if not self.has_change_permission(request, store):
            raise PermissionDenied
        return store

    def resync_view(self, request: HttpRequest, store_id: int) -> HttpResponse:
        return resync_view(self, request, self._store_for_change(request, store_id))

    def _back(self, store: Store) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:connections_store_change", args=[store.pk]))

    def send_link_view(self, request: HttpRequest, store_id: int) -> HttpResponse:
        store = self._store_for_change(request, store_id)
        connected = store.authorization_status == Store.Authorization.CONNECTED
        form = SendLinkForm(request.POST or None, initial={"email": store.merchant_email})
        if not connected:
            del form.fields["reauthorize"]
        if request.method == "POST" and form.is_valid():
            email = form.cleaned_data["email"]
            try:
                services.store_send_authorization_link(
                    store=store, email=email, reauthorization=bool(form.cleaned_data.get("reauthorize"))
                )
            except StoreAlreadyConnected:
                form.add_error(
                    "reauthorize",
                    "This store is already connected: tick the box to start a re-authorization.",
                )
            else:
                what = "Re-authorization link" if connected else "Authorization link"
                self.message_user(request, f"{what} sent to {email}.")
                return self._back(store)
        context = {
            "connected": connected,
            **self.admin_site.each_context(request),
            "title": f"{'Re-authorize' if connected else 'Send authorization link for'} {store}",
            "store": store,
            "form": form,
            "opts": self.opts,
            "days": settings.MERCHANT_LINK_MAX_AGE_DAYS,
            "open_links": store.merchant_links.filter(
                used_at=None, revoked_at=None, expires_at__gt=timezone.now()
            ).count(),
        }
        return TemplateResponse(request, "connections/send_link.html", context)

    def has_finalize_permission(self, request: HttpRequest, obj=None) -> bool:
        # A warehouse admin's step: a merchant's own user may not accept its own consent.
        return request.user.has_perm(FINALIZE_PERMISSION) and self.in_scope(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_finalize": self.has_finalize_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def finalize_view(self, request: HttpRequest, store_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        store = self._store_for_change(request, store_id)
        if not self.has_finalize_permission(request, store):
            raise PermissionDenied
        result = services.store_finalize_authorization(store=store)
        schedules_sync(store=store)  # connected, or ruled out by Amazon: its jobs follow
        self.message_user(request, result.message, messages.SUCCESS if result.connected else messages.ERROR)
        return self._back(store)

    def test_connection_view(self, request: HttpRequest, store_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        store = self._store_for_change(request, store_id)
        result = services.store_test_connection(store=store)
        schedules_sync(store=store)  # Amazon may have refused its token
        self.message_user(request, result.message, messages.SUCCESS if result.ok else messages.ERROR)
        return self._back(store)

    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset) -> None:
        # Each test is one live call a person waits for: keep the batch small.
        stores = list(queryset.select_related("marketplace")[: self.TEST_CONNECTION_BATCH + 1])
        if len(stores) > self.TEST_CONNECTION_BATCH:
            self.message_user(
                request, f"Testing the first {self.TEST_CONNECTION_BATCH} stores only.", messages.WARNING
            )
        for store in stores[: self.TEST_CONNECTION_BATCH]:
            result = services.store_test_connection(store=store)
            schedules_sync(store=store)
            self.message_user(
                request, f"{store}: {result.message}", messages.SUCCESS if result.ok else messages.ERROR
            )

    @admin.action(description="Finalize merchant authorization", permissions=["finalize"])
    def finalize_authorization(self, request: HttpRequest, queryset) -> None:
        # Each store is one live call to Amazon a person waits for: keep the batch small.
        waiting = queryset.filter(authorization_status=Store.Authorization.AUTHORIZED_BY_MERCHANT)
        stores = list(waiting[: self.TEST_CONNECTION_BATCH + 1])
        if len(stores) > self.TEST_CONNECTION_BATCH:
            self.message_user(
                request, f"Finalizing the first {self.TEST_CONNECTION_BATCH} stores only.", messages.WARNING
            )
        if not stores:
            self.message_user(
                request, "None of these stores has a merchant authorization waiting.", messages.WARNING
            )
        for store in stores[: self.TEST_CONNECTION_BATCH]:
            result = services.store_finalize_authorization(store=store)
            schedules_sync(store=store)
            self.message_user(
                request, result.message, messages.SUCCESS if result.connected else messages.ERROR
            )


@admin.register(MerchantLink)
class MerchantLinkAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Links emailed to merchants: who got one, whether it is still open. Sent from the store page."""

    list_display = ("store", "email", "created_at", "expires_at", "used_at", "revoked_at")
    list_filter = (
        "store",
        ("used_at", admin.EmptyFieldListFilter),
        ("revoked_at", admin.EmptyFieldListFilter),
    )
    list_select_related = ("store",)
    search_fields = ("store__name", "email")
    readonly_fields = ("store", "email", "created_at", "expires_at", "used_at", "revoked_at")
    exclude = ("token_hash",)
    actions = ["revoke"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a link is made by "Send to merchant", which emails it

    @admin.action(description="Revoke the selected links", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        count = merchant_links_withdraw(links=queryset)
        self.message_user(request, f"{count} link(s) revoked; they now answer “no longer valid”.")


# --- Merchants and the people who work for them ---


class MerchantMembershipInline(admin.TabularInline):
    model = MerchantMembership
    extra = 1
    autocomplete_fields = ("user",)


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "created_at")
    search_fields = ("name", "email")
    inlines = (MerchantMembershipInline,)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if user_is_scoped(request.user):
            return queryset.filter(memberships__user_id=request.user.pk)
        return queryset


@admin.register(MerchantMembership)
class MerchantMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "merchant", "created_at")
    list_filter = ("merchant",)
    list_select_related = ("user", "merchant")
    search_fields = ("user__username", "merchant__name")
    autocomplete_fields = ("user", "merchant")

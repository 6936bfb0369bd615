"""The admin of ORDER_CHANGE notifications: what the consumer did with each message
(dead letters with *Retry*), and the store page's subscription state and buttons."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import path

from connections.admin_scoping import StoreScopedAdminMixin
from connections.models import NotificationSubscription
from connections.notifications import notification_subscription_forget, notification_test_send
from fulfillment.orders.models import NotificationReceipt
from fulfillment.orders.services.notification_setup import notification_subscription_setup
from fulfillment.orders.services.notifications import notification_dead_letter_retry


@admin.register(NotificationReceipt)
class NotificationReceiptAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Every ORDER_CHANGE notification taken off the queue; dead letters wait here for *Retry*."""

    RETRY_BATCH = 10
    list_display = (
        "received_at",
        "outcome",
        "store",
        "amazon_order_id",
        "change_type",
        "reason",
        "attempts",
        "handled_at",
    )
    list_filter = ("outcome", "change_type", "store")
    list_select_related = ("store",)
    search_fields = ("amazon_order_id", "notification_id", "seller_id")
    date_hierarchy = "received_at"
    actions = ("retry",)
    fields = readonly_fields = (
        "notification_id",
        "outcome",
        "reason",
        "store",
        "seller_id",
        "marketplace_id",
        "amazon_order_id",
        "change_type",
        "changed_at",
        "received_at",
        "download_due_at",
        "handled_at",
        "attempts",
    )

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Retry (handle the dead letter again)", permissions=["change"])
    def retry(self, request, queryset):
        # Each retry may read the order from Amazon while a person waits: a small batch.
        dead = list(queryset.filter(outcome=NotificationReceipt.Outcome.DEAD)[: self.RETRY_BATCH + 1])
        if len(dead) > self.RETRY_BATCH:
            self.message_user(request, f"Retrying the first {self.RETRY_BATCH} only.", messages.WARNING)
        if not dead:
            self.message_user(request, "None of these is a dead letter.", messages.WARNING)
        for receipt in dead[: self.RETRY_BATCH]:
            result = notification_dead_letter_retry(receipt=receipt)
            receipt.refresh_from_db()
            level = (
                messages.SUCCESS if receipt.outcome != NotificationReceipt.Outcome.DEAD else messages.ERROR
            )
            self.message_user(request, f"{receipt.notification_id}: {result}", level)


class NotificationSubscriptionInline(admin.StackedInline):
    """The store's ORDER_CHANGE subscription, read-only (the buttons above change it)."""

    model = NotificationSubscription
    can_delete = False
    extra = 0
    max_num = 0
    verbose_name = verbose_name_plural = "ORDER_CHANGE notifications"
    fields = readonly_fields = (
        "state",
        "error",
        "subscription_id",
        "changed_at",
        "last_notification_at",
        "last_test_sent_at",
        "last_test_received_at",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class StoreNotificationsAdminMixin:
    """The store page's *Set up notifications* and *Test notification* buttons."""

    def get_inlines(self, request, obj):
        # A store being added has no subscription yet: no read-only block (and no
        # inline formset the add form would have to post).
        inlines = super().get_inlines(request, obj)
        return inlines if obj is not None else [i for i in inlines if i is not NotificationSubscriptionInline]

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:store_id>/notifications-setup/",
                wrap(self.notifications_setup_view),
                name="connections_store_notifications_setup",
            ),
            path(
                "<int:store_id>/notifications-test/",
                wrap(self.notifications_test_view),
                name="connections_store_notifications_test",
            ),
            *super().get_urls(),
        ]

    def delete_model(self, request, obj):
        notification_subscription_forget(store=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for store in queryset.select_related("marketplace"):
            notification_subscription_forget(store=store)
        super().delete_queryset(request, queryset)

    def notifications_setup_view(self, request: HttpRequest, store_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        store = self._store_for_change(request, store_id)
        message = notification_subscription_setup(store=store)
        state = NotificationSubscription.objects.filter(store=store).values_list("state", flat=True).first()
        failed = state == NotificationSubscription.State.FAILED
        self.message_user(request, message, messages.ERROR if failed else messages.SUCCESS)
        return self._back(store)

    def notifications_test_view(self, request: HttpRequest, store_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        store = self._store_for_change(request, store_id)
        result = notification_test_send(store=store)
        self.message_user(request, result.message, messages.SUCCESS if result.changed else messages.ERROR)
        return self._back(store)

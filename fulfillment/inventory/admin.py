"""Inventory push in the admin: pushes (confirm or cancel a held one), feeds, per-SKU state."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.urls import path
from django_q.tasks import async_task

from connections.admin_scoping import StoreScopedAdminMixin
from fulfillment.core.outbound_admin import OutboundAdminMixin
from fulfillment.inventory import admin_snapshots  # noqa: F401  (registers Held inventory snapshots)
from fulfillment.inventory.models import (
    InventoryChange,
    InventoryFeed,
    InventoryLevel,
    InventoryPush,
    ListingState,
    StoreInventorySettings,
)
from fulfillment.inventory.services import (
    inventory_feeds_retry,
    inventory_push_cancel,
    inventory_push_confirm,
)
from fulfillment.jobs.schedules import INVENTORY_PUSH_TASK, schedules_sync
from fulfillment.wms.admin_imports import CsvImportAdminMixin, CsvImportForm
from fulfillment.wms.imports import (
    INVENTORY_COLUMNS,
    inventory_csv_import,
)


@admin.register(StoreInventorySettings)
class StoreInventorySettingsAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = ("store", "share_percent", "zero_guard_percent")
    list_select_related = ("store",)
    search_fields = ("store__name",)
    autocomplete_fields = ("store",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        schedules_sync(store=obj.store)  # the store's inventory push schedules follow


class RejectedFilter(admin.SimpleListFilter):
    title = "Amazon's answer"
    parameter_name = "answer"

    def lookups(self, request, model_admin):
        return (("rejected", "Last push rejected"), ("accepted", "Accepted"))

    def queryset(self, request, queryset):
        if self.value() == "rejected":
            return queryset.exclude(last_error="")
        if self.value() == "accepted":
            return queryset.filter(last_error="")
        return queryset


@admin.register(ListingState)
class ListingStateAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "sku",
        "store",
        "quantity",
        "lead_time",
        "channel_code",
        "accepted_at",
        "is_amazon_fulfilled",
        "last_error",
    )
    list_filter = (RejectedFilter, "is_amazon_fulfilled", "store")
    list_select_related = ("store",)
    search_fields = ("sku",)
    show_full_result_count = False
    readonly_fields = (
        "store",
        "sku",
        "quantity",
        "lead_time",
        "channel_code",
        "accepted_at",
        "last_feed",
        "last_error",
        "last_error_at",
        "is_amazon_fulfilled",
        "channel_checked_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class InventoryFeedInline(admin.TabularInline):
    model = InventoryFeed
    fields = (
        "sequence",
        "state",
        "message_count",
        "feed_id",
        "accepted",
        "rejected",
        "attempts",
        "processed_at",
        "last_error",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # The plan (up to 25,000 items a feed) is not needed to list feeds, nor the history.
        return super().get_queryset(request).defer("items", "attempt_history")


def _queue_push(store_id: int) -> None:
    transaction.on_commit(lambda: async_task(INVENTORY_PUSH_TASK, store_id))


@admin.register(InventoryPush)
class InventoryPushAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "store",
        "state",
        "method",
        "full",
        "messages",
        "feeds",
        "accepted",
        "rejected",
        "zeroing",
        "confirmed_by",
    )
    list_filter = ("state", "full", "store")
    list_select_related = ("store", "confirmed_by")
    show_full_result_count = False
    actions = ["confirm_and_push", "cancel_push"]
    inlines = [InventoryFeedInline]
    readonly_fields = (
        "store",
        "state",
        "method",
        "full",
        "messages",
        "feeds",
        "accepted",
        "rejected",
        "zeroing",
        "zeroing_share",
        "created_at",
        "finished_at",
        "confirmed_by",
        "confirmed_at",
        "error",
    )
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Confirm and push (zero-stock guard)")
    def confirm_and_push(self, request, queryset) -> None:
        confirmed = 0
        for push in queryset.filter(state=InventoryPush.State.AWAITING_CONFIRMATION):
            if inventory_push_confirm(push=push, user=request.user):
                _queue_push(push.store_id)
                confirmed += 1
        if confirmed:
            self.message_user(request, f"{confirmed} push(es) confirmed and queued.", messages.SUCCESS)
        else:
            self.message_user(request, "No selected push was awaiting confirmation.", messages.WARNING)

    @admin.action(description="Cancel")
    def cancel_push(self, request, queryset) -> None:
        cancelled = sum(
            inventory_push_cancel(push=push)
            for push in queryset.filter(state=InventoryPush.State.AWAITING_CONFIRMATION)
        )
        self.message_user(request, f"{cancelled} push(es) cancelled.", messages.SUCCESS)


@admin.register(InventoryFeed)
class InventoryFeedAdmin(StoreScopedAdminMixin, OutboundAdminMixin, admin.ModelAdmin):
    store_path = "push__store"
    list_display = (
        "push",
        "sequence",
        "state",
        "message_count",
        "feed_id",
        "accepted",
        "rejected",
        *OutboundAdminMixin.outbound_columns,
        "processed_at",
    )
    list_filter = ("state",)
    list_select_related = ("push",)
    search_fields = ("feed_id",)
    show_full_result_count = False
    actions = ("retry",)
    readonly_fields = (
        "push",
        "sequence",
        "state",
        "message_count",
        "feed_document_id",
        "feed_id",
        "report_document_id",
        "accepted",
        "rejected",
        "submitted_at",
        "processed_at",
        *OutboundAdminMixin.outbound_fields,
    )
    fields = readonly_fields

    def outbound_retry(self, request, ids: list[int]) -> str:
        count = inventory_feeds_retry(feed_ids=ids)
        skipped = len(ids) - count
        message = f"{count} feed(s) will be tried again by the store's push, queued now."
        if skipped:
            message += (
                f" {skipped} finished feed(s) left alone: a finished feed is never sent again "
                "(the next push sends what Amazon has not accepted)."
            )
        return message

    def get_queryset(self, request):
        return super().get_queryset(request).defer("items")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- Stock levels from the warehouse ---


class InventoryImportForm(CsvImportForm):
    complete = forms.BooleanField(
        label="complete snapshot",
        required=False,
        help_text="Every SKU of the warehouse not in the file is set to 0.",
    )


@admin.register(InventoryLevel)
class InventoryLevelAdmin(CsvImportAdminMixin, admin.ModelAdmin):
    list_display = ("sku", "warehouse", "available", "updated_at")
    list_filter = ("warehouse",)
    list_select_related = ("warehouse",)
    search_fields = ("sku",)
    show_full_result_count = False
    fields = ("warehouse", "sku", "available", "updated_at")
    readonly_fields = fields
    change_list_template = "wms/change_list_import.html"
    import_form = InventoryImportForm
    import_columns = INVENTORY_COLUMNS

    def has_add_permission(self, request) -> bool:
        # Quantities come from the WMS (API or CSV) so every change is recorded.
        return False

    def get_urls(self):
        return [
            path(
                "import-csv/",
                self.admin_site.admin_view(self.csv_import_view),
                name="inventory_inventorylevel_import_csv",
            ),
            *super().get_urls(),
        ]

    def has_change_permission(self, request, obj=None) -> bool:
        # The import is the way to change quantities; the change page is read-only.
        return obj is None and super().has_change_permission(request, obj)

    def run_import(self, *, warehouse, data, options, dry_run):
        return inventory_csv_import(
            warehouse=warehouse,
            data=data,
            complete=bool(options.get("complete")),
            dry_run=dry_run,
            sent_by=str(options.get("sent_by", "")),
        )


@admin.register(InventoryChange)
class InventoryChangeAdmin(admin.ModelAdmin):
    list_display = ("sku", "warehouse", "previous", "available", "changed_at")
    list_filter = ("warehouse",)
    list_select_related = ("warehouse",)
    search_fields = ("sku",)
    show_full_result_count = False
    fields = ("warehouse", "sku", "previous", "available", "changed_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

"""Inventory push in the admin: pushes (a held one is confirmed or discarded on a confirmation
page), feeds, per-SKU state."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
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
    list_display = ("store", "share_percent", "zero_guard_percent", "zero_guard_count", "drop_guard_percent")
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


_PUSH_DECISIONS = {
    "confirm": ("Confirm and push", "Confirm and push this inventory push"),
    "discard": ("Discard", "Discard this inventory push"),
}
# The push's page and its confirmation list at most these many SKUs (the counts are whole).
SKUS_SHOWN = 500


def _guarded_rows(push: InventoryPush) -> list[tuple]:
    return [
        (sku, "–" if old is None else old, new) for sku, old, new in (push.guarded_skus or [])[:SKUS_SHOWN]
    ]


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
    inlines = [InventoryFeedInline]
    change_form_template = "inventory/push_change_form.html"
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
        "dropping",
        "zeroing_share",
        "created_at",
        "finished_at",
        "confirmed_by",
        "confirmed_at",
        "error",
        "rejected_skus_table",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "inventory_inventorypush_changelist":
            # The SKU lists (up to thousands of entries a push) are for one push's page.
            queryset = queryset.defer("guarded_skus", "rejected_skus")
        return queryset

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a push is history: a held one is discarded, not deleted

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The SKUs the guard counted head the page: they are what the person decides on.
        push = self.get_object(request, object_id)
        if push is not None:
            extra_context = {
                **(extra_context or {}),
                "guarded": _guarded_rows(push),
                "guarded_more": max(len(push.guarded_skus or []) - SKUS_SHOWN, 0),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="SKUs Amazon refused")
    def rejected_skus_table(self, obj: InventoryPush):
        rows = (obj.rejected_skus or [])[:SKUS_SHOWN]
        if not rows:
            return "None."
        body = format_html_join("", "<tr><td><code>{}</code></td><td>{}</td></tr>", rows)
        return format_html(
            '<table class="rejected-skus"><thead><tr><th>SKU</th><th>Amazon\'s message</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            body,
        )

    def get_urls(self):
        return [
            path(
                f"<int:pk>/{decision}/",
                self.admin_site.admin_view(self.decide_view),
                {"decision": decision},
                name=f"inventory_inventorypush_{decision}",
            )
            for decision in _PUSH_DECISIONS
        ] + super().get_urls()

    def decide_view(self, request: HttpRequest, pk: int, decision: str):
        """GET shows what the push would do; POST confirms (and queues it) or discards it."""
        if decision not in _PUSH_DECISIONS or not self.has_change_permission(request):
            raise PermissionDenied
        push = get_object_or_404(self.get_queryset(request).select_related("store"), pk=pk)
        back = reverse("admin:inventory_inventorypush_change", args=[push.pk])
        if push.state != InventoryPush.State.AWAITING_CONFIRMATION:
            messages.warning(request, f"This push is {push.get_state_display().lower()}: nothing to decide.")
            return HttpResponseRedirect(back)
        if request.method == "POST":
            if decision == "confirm":
                done = inventory_push_confirm(push=push, user=request.user)
                if done:
                    _queue_push(push.store_id)
                    messages.success(request, f"Push {push.pk} confirmed: it is being sent to Amazon.")
            else:
                done = inventory_push_cancel(push=push, user=request.user)
                if done:
                    messages.success(request, f"Push {push.pk} discarded: nothing of it was sent.")
            if not done:
                messages.warning(request, "Someone decided on this push first: nothing changed.")
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _PUSH_DECISIONS[decision][1],
            "push": push,
            "decision": decision,
            "button": _PUSH_DECISIONS[decision][0],
            "guarded": _guarded_rows(push),
            "more": max(len(push.guarded_skus or []) - SKUS_SHOWN, 0),
        }
        return TemplateResponse(request, "inventory/push_confirm.html", context)


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

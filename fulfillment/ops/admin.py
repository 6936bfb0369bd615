"""The alerts log in the admin."""

from __future__ import annotations

from django.contrib import admin

from fulfillment.ops.models import AlertSent


@admin.register(AlertSent)
class AlertSentAdmin(admin.ModelAdmin):
    """Read-only log: each row is an alert that went out once."""

    list_display = ("sent_at", "kind", "key", "store", "recipients", "subject")
    list_filter = ("kind",)
    list_select_related = ("store",)
    search_fields = ("key", "subject")
    show_full_result_count = False
    fields = ("kind", "key", "store", "recipients", "subject", "sent_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

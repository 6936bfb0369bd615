"""The access audit, read-only, for a warehouse admin (nobody else has its permission)."""

from django.contrib import admin

from fulfillment.privacy.models import BuyerDataAccess


@admin.register(BuyerDataAccess)
class BuyerDataAccessAdmin(admin.ModelAdmin):
    list_display = ("accessed_at", "actor", "amazon_order_id", "shown", "via", "address")
    list_filter = (
        ("accessed_at", admin.DateFieldListFilter),
        "via",
        ("user", admin.RelatedOnlyFieldListFilter),
        ("wms_key", admin.RelatedOnlyFieldListFilter),
        ("store", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("=amazon_order_id", "actor", "=address")
    search_help_text = "Amazon order id (exact), user or key name, or address (exact)."
    date_hierarchy = "accessed_at"
    show_full_result_count = False
    fields = (
        "accessed_at",
        "actor",
        "user",
        "wms_key",
        "amazon_order_id",
        "order",
        "store",
        "shown",
        "via",
        "address",
    )
    readonly_fields = fields

    @admin.display(description="shown")
    def shown(self, entry: BuyerDataAccess) -> str:
        return ", ".join(entry.fields)

    # A log: nobody adds, edits or deletes rows by hand (the purge deletes them after 12 months).
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

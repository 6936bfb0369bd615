"""Merchants (with their users) and the alerts log in the admin."""

from __future__ import annotations

from django.contrib import admin

from connections.models import Merchant
from fulfillment.ops.models import AlertSent, MerchantMembership
from fulfillment.ops.roles import user_is_scoped


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

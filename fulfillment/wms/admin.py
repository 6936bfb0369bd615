"""Warehouse side in the admin: keys, shipments (record one, import CSV),
inventory (import CSV), the webhook and its deliveries. Thin: services do the work."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from connections.admin_scoping import StoreScopedAdminMixin
from fulfillment.core.outbound_admin import OutboundAdminMixin
from fulfillment.jobs.schedules import schedules_sync
from fulfillment.wms.models import WarehouseWebhook, WebhookDelivery, WmsApiKey
from fulfillment.wms.services import (
    webhook_deliveries_retry,
    wms_key_create,
    wms_key_revoke,
)

# --- API keys -----------------------------------------------------------------------


class WmsApiKeyAddForm(forms.ModelForm):
    class Meta:
        model = WmsApiKey
        fields = ("warehouse", "name")


@admin.register(WmsApiKey)
class WmsApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "warehouse",
        "key_start",
        "created_at",
        "created_by",
        "creator_left_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (
        "warehouse",
        ("revoked_at", admin.EmptyFieldListFilter),
        ("creator_left_at", admin.EmptyFieldListFilter),
    )
    list_select_related = ("warehouse", "created_by")
    search_fields = ("name", "prefix")
    actions = ("revoke",)
    # Never the hash: it is all an attacker would need to check guesses offline.
    readonly_fields = (
        "warehouse",
        "name",
        "key_start",
        "created_at",
        "created_by",
        "creator_left_at",
        "last_used_at",
        "revoked_at",
    )

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = WmsApiKeyAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ("warehouse", "name") if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    @admin.display(description="key")
    def key_start(self, key: WmsApiKey) -> str:
        return f"wms_{key.prefix}_…"

    def save_model(self, request, obj, form, change):
        if change:
            return
        key, plain = wms_key_create(warehouse=obj.warehouse, name=obj.name, created_by=request.user)
        obj.pk, obj.prefix, obj.created_at = key.pk, key.prefix, key.created_at
        messages.warning(
            request,
            f"The new key is {plain} — copy it now: it is stored hashed and cannot be shown again.",
        )

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            wms_key_revoke(key=key)
        self.message_user(request, f"{len(keys)} key(s) revoked.", messages.SUCCESS)


# --- Webhook ------------------------------------------------------------------------------


class WarehouseWebhookForm(forms.ModelForm):
    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Leave blank to keep the current secret.",
    )

    class Meta:
        model = WarehouseWebhook
        fields = ("warehouse", "url", "secret", "enabled")

    def clean_secret(self):
        secret = self.cleaned_data["secret"]
        if not secret and not (self.instance.pk and self.instance.secret):
            raise forms.ValidationError("A secret is required.")
        return secret or self.instance.secret


@admin.register(WarehouseWebhook)
class WarehouseWebhookAdmin(admin.ModelAdmin):
    form = WarehouseWebhookForm
    list_display = ("warehouse", "url", "enabled", "created_at")
    list_filter = ("enabled",)
    list_select_related = ("warehouse",)

    # The webhook sweep is scheduled while a warehouse has an enabled webhook.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        schedules_sync()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        schedules_sync()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        schedules_sync()


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(StoreScopedAdminMixin, OutboundAdminMixin, admin.ModelAdmin):
    store_path = "order__store"
    list_display = ("order", "webhook", "status", *OutboundAdminMixin.outbound_columns, "sent_at")
    list_filter = ("status", "webhook")
    list_select_related = ("order", "webhook__warehouse")
    search_fields = ("=order__amazon_order_id",)
    show_full_result_count = False
    actions = ("retry",)
    fields = ("order", "webhook", "status", "sent_at", "created_at", *OutboundAdminMixin.outbound_fields)
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def outbound_retry(self, request, ids: list[int]) -> str:
        count = webhook_deliveries_retry(delivery_ids=ids)
        return f"{count} delivery(ies) will be sent on the next sweep."


# --- CSV import (shared by shipments and inventory) ------------------------------------------

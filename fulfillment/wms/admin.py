"""Warehouse side in the admin: keys, shipments (record one, import CSV),
inventory (import CSV), the webhook and its deliveries. Thin: services do the work."""

from __future__ import annotations

import secrets
import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from fulfillment.ops.roles import StoreScopedAdminMixin, scope_queryset, user_is_scoped
from fulfillment.orders.models import Order, Warehouse
from fulfillment.wms import admin_snapshots  # noqa: F401  (registers Held inventory snapshots)
from fulfillment.wms.import_confirmations import csv_import_confirmation_claim
from fulfillment.wms.imports import (
    INVENTORY_COLUMNS,
    SHIPMENT_COLUMNS,
    inventory_csv_import,
    shipments_csv_import,
)
from fulfillment.wms.models import (
    InventoryChange,
    InventoryLevel,
    Shipment,
    ShipmentLine,
    WarehouseWebhook,
    WebhookDelivery,
    WmsApiKey,
)
from fulfillment.wms.services import (
    ShipmentInput,
    ShipmentLineInput,
    ShipmentRejected,
    shipment_record,
    webhook_deliveries_retry,
    wms_key_create,
    wms_key_revoke,
)
from fulfillment.wms.shipments import ShipmentConflict
from mappings.imports import CsvUnreadable, csv_text, validate_csv_upload

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


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    store_path = "order__store"
    list_display = ("order", "webhook", "status", "attempts", "not_before", "sent_at", "short_error")
    list_filter = ("status", "webhook")
    list_select_related = ("order", "webhook__warehouse")
    search_fields = ("=order__amazon_order_id",)
    show_full_result_count = False
    actions = ("retry",)
    fields = ("order", "webhook", "status", "attempts", "not_before", "sent_at", "last_error", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="last error")
    def short_error(self, delivery: WebhookDelivery) -> str:
        return delivery.last_error[:80]

    @admin.action(description="Retry", permissions=["change"])
    def retry(self, request, queryset):
        count = webhook_deliveries_retry(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} delivery(ies) will be sent on the next sweep.", messages.SUCCESS)


# --- CSV import (shared by shipments and inventory) ------------------------------------------

_SALT = "fulfillment.wms.csv-import"
_PREVIEW_MAX_AGE = 60 * 60


class CsvImportForm(forms.Form):
    warehouse = forms.ModelChoiceField(Warehouse.objects.all())
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, comma-separated, header row first.",
        validators=[validate_csv_upload],
    )


class ShipmentImportForm(CsvImportForm):
    correct = forms.BooleanField(
        label="correct packages recorded before",
        required=False,
        help_text="A package id already recorded with other data replaces it, unless Amazon has "
        "accepted it (its confirmation starts over). Unticked, such rows are refused.",
    )


class InventoryImportForm(CsvImportForm):
    complete = forms.BooleanField(
        label="complete snapshot",
        required=False,
        help_text="Every SKU of the warehouse not in the file is set to 0.",
    )


class _CsvImportMixin:
    """Check the file (nothing written), show every problem or a preview, then
    confirm. The confirmed file travels in the page, signed, so any web
    process can finish the import."""

    import_form = CsvImportForm
    import_columns: tuple[str, ...] = ()

    def run_import(self, *, warehouse, data: str, options: dict, dry_run: bool):
        raise NotImplementedError

    def csv_import_view(self, request: HttpRequest):
        if not self.has_add_permission(request) and not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        # A file names orders of the whole warehouse: not for users scoped to one merchant.
        if user_is_scoped(request.user):
            raise PermissionDenied
        form, report, payload = self.import_form(), None, None
        if request.method == "POST" and "payload" in request.POST:
            try:
                saved = signing.loads(request.POST["payload"], salt=_SALT, max_age=_PREVIEW_MAX_AGE)
            except signing.BadSignature:
                messages.error(request, "The preview expired: check the file again.")
                return HttpResponseRedirect(request.path)
            warehouse = get_object_or_404(Warehouse, pk=saved["warehouse"])
            options = {**saved, "sent_by": request.user.get_username()}
            with transaction.atomic():
                # Single use: the payload's nonce is claimed with the import, in one transaction.
                if not csv_import_confirmation_claim(
                    nonce=str(saved.get("nonce", "")), max_age_seconds=_PREVIEW_MAX_AGE
                ):
                    messages.warning(request, "This import was already confirmed: nothing changed.")
                    return HttpResponseRedirect(reverse(f"admin:wms_{self.opts.model_name}_changelist"))
                report = self.run_import(
                    warehouse=warehouse, data=saved["data"], options=options, dry_run=False
                )
                if not report.ok:
                    transaction.set_rollback(True)  # nothing written: the same payload may be confirmed again
            if report.ok and report.held_id:
                messages.warning(
                    request,
                    format_html(
                        'Not imported: {} It waits in <a href="{}">Held inventory snapshots</a> for a '
                        "person to apply or discard it.",
                        report.held_reason,
                        reverse("admin:wms_heldinventorysnapshot_change", args=[report.held_id]),
                    ),
                )
                return HttpResponseRedirect(reverse(f"admin:wms_{self.opts.model_name}_changelist"))
            if report.ok:
                messages.success(request, f"Imported: {report.summary()}.")
                return HttpResponseRedirect(reverse(f"admin:wms_{self.opts.model_name}_changelist"))
        elif request.method == "POST":
            form = self.import_form(request.POST, request.FILES)
            text = None
            if form.is_valid():
                try:
                    text = csv_text(form.cleaned_data["file"].read())
                except CsvUnreadable as exc:
                    form.add_error("file", str(exc))
            if text is not None:
                options = {k: v for k, v in form.cleaned_data.items() if k not in ("file", "warehouse")}
                warehouse = form.cleaned_data["warehouse"]
                report = self.run_import(warehouse=warehouse, data=text, options=options, dry_run=True)
                if report.ok:
                    payload = signing.dumps(
                        {"warehouse": warehouse.pk, "data": text, "nonce": secrets.token_hex(16), **options},
                        salt=_SALT,
                        compress=True,
                    )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Import {self.opts.verbose_name_plural} from CSV",
            "form": form,
            "report": report,
            "payload": payload,
            "columns": ", ".join(self.import_columns),
        }
        return TemplateResponse(request, "wms/import.html", context)


# --- Shipments --------------------------------------------------------------------------------


class ShipmentLineInline(admin.TabularInline):
    model = ShipmentLine
    extra = 0
    can_delete = False
    fields = ("order_line", "quantity")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RecordShipmentForm(forms.Form):
    package_id = forms.CharField(max_length=100, help_text="The warehouse's package id (e.g. the label id).")
    carrier = forms.CharField(max_length=100)
    service = forms.CharField(max_length=100, required=False)
    tracking_number = forms.CharField(max_length=100)
    ship_date = forms.DateField(
        help_text="In the warehouse's time zone.", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_lines = list(order.lines.order_by("order_item_id"))
        for line in self.order_lines:
            left = max(line.quantity_ordered - line.quantity_shipped - line.quantity_cancelled, 0)
            self.fields[f"qty_{line.pk}"] = forms.IntegerField(
                label=f"{line.amazon_sku or line.asin} (item {line.order_item_id})",
                # No max here: the service checks what is left, after a
                # resubmitted package id has been recognised as a replay.
                min_value=0,
                initial=left,
                help_text=f"Amazon units; {left} left to ship.",
            )

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(f"qty_{line.pk}") for line in self.order_lines):
            raise forms.ValidationError("Ship at least one unit.")
        return cleaned


@admin.register(Shipment)
class ShipmentAdmin(StoreScopedAdminMixin, _CsvImportMixin, admin.ModelAdmin):
    store_path = "order__store"
    list_display = (
        "package_id",
        "order",
        "package_reference",
        "carrier",
        "tracking_number",
        "ship_date",
        "source",
    )
    list_filter = ("source", "carrier")
    list_select_related = ("order",)
    search_fields = ("=order__amazon_order_id", "package_id", "tracking_number")
    show_full_result_count = False
    inlines = (ShipmentLineInline,)
    fields = (
        "order",
        "package_id",
        "package_reference",
        "carrier",
        "service",
        "tracking_number",
        "ship_date",
        "source",
        "created_at",
    )
    readonly_fields = fields
    change_list_template = "wms/change_list_import.html"
    import_form = ShipmentImportForm
    import_columns = SHIPMENT_COLUMNS

    def has_add_permission(self, request) -> bool:
        # Packages are recorded from the order ("Record shipment"), by CSV or by the API.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        return [
            path(
                "record/<int:order_id>/",
                self.admin_site.admin_view(self.record_view),
                name="wms_shipment_record",
            ),
            path(
                "import-csv/",
                self.admin_site.admin_view(self.csv_import_view),
                name="wms_shipment_import_csv",
            ),
            *super().get_urls(),
        ]

    def run_import(self, *, warehouse, data, options, dry_run):
        return shipments_csv_import(
            warehouse=warehouse, data=data, dry_run=dry_run, correct=bool(options.get("correct"))
        )

    def record_view(self, request: HttpRequest, order_id: int):
        if not request.user.has_perm("wms.add_shipment"):
            return HttpResponseRedirect(reverse("admin:index"))
        orders = scope_queryset(Order.objects.all(), user=request.user, store_path="store")
        order = get_object_or_404(orders.select_related("store__warehouse"), pk=order_id)
        warehouse = order.store.warehouse
        today = timezone.localdate(timezone=zoneinfo.ZoneInfo(warehouse.time_zone))
        initial = {"carrier": order.carrier, "service": order.ship_code, "ship_date": today}
        form = RecordShipmentForm(request.POST or None, order=order, initial=initial)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            data = ShipmentInput(
                order=str(order.pk),
                package_id=d["package_id"],
                carrier=d["carrier"],
                service=d["service"],
                tracking_number=d["tracking_number"],
                ship_date=d["ship_date"],
                lines=[
                    ShipmentLineInput(quantity=d[f"qty_{line.pk}"], order_item_id=line.order_item_id)
                    for line in form.order_lines
                    if d.get(f"qty_{line.pk}")
                ],
            )
            try:
                shipment, created = shipment_record(
                    warehouse=warehouse, data=data, source=Shipment.Source.ADMIN
                )
            except ShipmentConflict as e:
                form.add_error(
                    "package_id",
                    f"Package {data.package_id} was recorded before with other data: nothing changed.",
                )
                for name, d in e.differences.items():
                    form.add_error(None, f"{name}: recorded {d['stored']!r}, now {d['sent']!r}")
            except ShipmentRejected as e:
                for key, errors in e.errors.items():
                    field = key if key in form.fields else None
                    for message in errors:
                        form.add_error(field, message if field else f"{key}: {message}")
            else:
                if created:
                    messages.success(request, f"Package {shipment.package_id} recorded.")
                else:
                    messages.info(
                        request, f"Package {shipment.package_id} was recorded before; nothing changed."
                    )
                return HttpResponseRedirect(reverse("admin:fulfillment_order_change", args=[order.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Record shipment of order {order.amazon_order_id}",
            "order": order,
            "form": form,
        }
        return TemplateResponse(request, "wms/record_shipment.html", context)


# --- Inventory ----------------------------------------------------------------------------------


@admin.register(InventoryLevel)
class InventoryLevelAdmin(_CsvImportMixin, admin.ModelAdmin):
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
                name="wms_inventorylevel_import_csv",
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

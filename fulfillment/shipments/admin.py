"""Shipment confirmations in the admin: thin, every action calls a service."""

from __future__ import annotations

import json
import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from connections.admin_scoping import StoreScopedAdminMixin
from connections.scoping import scope_queryset
from fulfillment.core.errors import ShipmentRejected
from fulfillment.core.outbound_admin import OutboundAdminMixin
from fulfillment.orders.models import Order
from fulfillment.shipments.models import Shipment, ShipmentConfirmation, ShipmentLine
from fulfillment.shipments.selectors import orders_refused_by_amazon
from fulfillment.shipments.services.confirmations import confirmations_resolve, confirmations_retry
from fulfillment.shipments.services.recording import (
    ShipmentConflict,
    ShipmentInput,
    ShipmentLineInput,
    shipment_record,
)
from fulfillment.shipments.services.tracking_hold import confirmations_send_anyway
from fulfillment.wms.admin_imports import CsvImportAdminMixin, CsvImportForm
from fulfillment.wms.imports import (
    SHIPMENT_COLUMNS,
    shipments_csv_import,
)


def _json_block(value, *, empty: str):
    if not value:
        return empty
    return format_html('<pre class="amazon-json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False))


@admin.register(ShipmentConfirmation)
class ShipmentConfirmationAdmin(StoreScopedAdminMixin, OutboundAdminMixin, admin.ModelAdmin):
    list_display = (
        "order",
        "package_reference",
        "shipment",
        "store",
        "state",
        *OutboundAdminMixin.outbound_columns,
        "amazon_message_short",
        "accepted_at",
    )
    list_filter = ("state", "store")
    list_select_related = ("order", "shipment", "store")
    search_fields = ("=order__amazon_order_id", "=shipment__tracking_number", "=shipment__package_id")
    search_help_text = "Amazon order id, tracking number or the WMS's package id (exact)."
    show_full_result_count = False  # one row per package: the table grows large
    actions = ("retry", "mark_resolved", "send_anyway")
    change_form_template = "confirmations/confirmation_change_form.html"
    fields = (
        "order",
        "shipment",
        "store",
        "package_reference",
        "state",
        "amazon_message",
        "claimed_at",
        "accepted_at",
        "alerted_at",
        "resolved_by",
        "sent_anyway_by",
        "sent_anyway_at",
        "sent_body_pretty",
        "amazon_response_pretty",
        "created_at",
        "updated_at",
        *OutboundAdminMixin.outbound_fields,
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # rows come from shipments

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deleting one would let the package be forgotten

    @admin.display(description="sent to Amazon (confirmShipment, last request)")
    def sent_body_pretty(self, obj: ShipmentConfirmation):
        return _json_block(obj.sent_body, empty="Nothing sent yet.")

    @admin.display(description="Amazon's answer")
    def amazon_response_pretty(self, obj: ShipmentConfirmation):
        return _json_block(obj.amazon_response, empty="No answer yet.")

    @admin.display(description="Amazon's message")
    def amazon_message_short(self, obj: ShipmentConfirmation) -> str:
        text = obj.amazon_message
        return text if len(text) <= 120 else text[:117] + "…"

    def outbound_retry(self, request, ids: list[int]) -> str:
        count = confirmations_retry(confirmation_ids=ids)
        return f"{count} confirmation(s) will be sent again now."

    @admin.action(description="Mark resolved (fixed in Seller Central)", permissions=["change"])
    def mark_resolved(self, request, queryset) -> None:
        count = confirmations_resolve(
            confirmation_ids=list(queryset.values_list("pk", flat=True)), user=request.user.get_username()
        )
        self.message_user(request, f"{count} confirmation(s) marked resolved.", messages.SUCCESS)

    # -- Send anyway: a held tracking number, checked by a person against the carrier's label

    def get_urls(self):
        return [
            path(
                "<int:object_id>/send-anyway/",
                self.admin_site.admin_view(self.send_anyway_view),
                name="confirmations_shipmentconfirmation_send_anyway",
            ),
            *super().get_urls(),
        ]

    def has_send_anyway_permission(self, request) -> bool:
        return self.has_change_permission(request)

    @admin.action(
        description="Send anyway (tracking number checked by a person)", permissions=["send_anyway"]
    )
    def send_anyway(self, request, queryset):
        held = queryset.filter(state=ShipmentConfirmation.State.HELD).select_related("shipment", "order")
        if request.POST.get("post") != "yes":
            return self._send_anyway_page(request, list(held.order_by("pk")), action=True)
        self._send_anyway(request, list(held.values_list("pk", flat=True)))
        return None

    def send_anyway_view(self, request: HttpRequest, object_id: int):
        """GET asks (the number, its carrier, why it was held); POST sends it."""
        if not self.has_send_anyway_permission(request):
            raise PermissionDenied
        confirmation = get_object_or_404(
            self.get_queryset(request).select_related("shipment", "order"), pk=object_id
        )
        here = reverse("admin:confirmations_shipmentconfirmation_change", args=[confirmation.pk])
        if confirmation.state != ShipmentConfirmation.State.HELD:
            messages.info(request, "This package is not held: nothing to send anyway.")
            return HttpResponseRedirect(here)
        if request.method == "POST":
            self._send_anyway(request, [confirmation.pk])
            return HttpResponseRedirect(here)
        return self._send_anyway_page(request, [confirmation], action=False)

    def _send_anyway(self, request, ids: list[int]) -> None:
        count = confirmations_send_anyway(confirmation_ids=ids, user=request.user.get_username())
        self.message_user(
            request,
            f"{count} held package(s) will be sent to Amazon now with the tracking number as it is.",
            messages.SUCCESS,
        )

    def _send_anyway_page(self, request, held: list[ShipmentConfirmation], *, action: bool):
        return TemplateResponse(
            request,
            "confirmations/send_anyway_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": "Send held tracking numbers to Amazon anyway?",
                "opts": self.opts,
                "held": held,
                "action": action,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


class ShipmentConfirmationInline(admin.TabularInline):
    """Each package's confirmation state on the order page: add it to OrderAdmin.inlines."""

    model = ShipmentConfirmation
    fk_name = "order"
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = "package confirmation"
    verbose_name_plural = "package confirmations to Amazon"
    fields = (
        "package_reference",
        "package_id",
        "tracking_number",
        "state",
        "attempts",
        "amazon_message",
        "accepted_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shipment").order_by("package_reference")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="package id")
    def package_id(self, obj: ShipmentConfirmation) -> str:
        return obj.shipment.package_id

    @admin.display(description="tracking")
    def tracking_number(self, obj: ShipmentConfirmation) -> str:
        return obj.shipment.tracking_number


class AmazonRefusedFilter(admin.SimpleListFilter):
    """Orders list: those shipped here whose confirmation Amazon refused."""

    title = "Amazon confirmation"
    parameter_name = "amazon_refused"

    def lookups(self, request, model_admin):
        return [("yes", "Shipped, Amazon refused")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return orders_refused_by_amazon(orders=queryset)
        return queryset


class ShipmentImportForm(CsvImportForm):
    correct = forms.BooleanField(
        label="correct packages recorded before",
        required=False,
        help_text="A package id already recorded with other data replaces it, unless Amazon has "
        "accepted it (its confirmation starts over). Unticked, such rows are refused.",
    )


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
class ShipmentAdmin(StoreScopedAdminMixin, CsvImportAdminMixin, admin.ModelAdmin):
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
        "confirmation_to_amazon",
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

    @admin.display(description="confirmation to Amazon")
    def confirmation_to_amazon(self, obj: Shipment):
        """Its state and why (a held tracking number, Amazon's refusal), linking to the row."""
        confirmation = ShipmentConfirmation.objects.filter(shipment=obj).first()
        if confirmation is None:
            return "–"
        url = reverse("admin:confirmations_shipmentconfirmation_change", args=[confirmation.pk])
        return format_html(
            '<a href="{}">{}</a>{}',
            url,
            confirmation.get_state_display(),
            f": {confirmation.amazon_message}" if confirmation.amazon_message else "",
        )

    def get_urls(self):
        return [
            path(
                "record/<int:order_id>/",
                self.admin_site.admin_view(self.record_view),
                name="confirmations_shipment_record",
            ),
            path(
                "import-csv/",
                self.admin_site.admin_view(self.csv_import_view),
                name="confirmations_shipment_import_csv",
            ),
            *super().get_urls(),
        ]

    def run_import(self, *, warehouse, data, options, dry_run):
        return shipments_csv_import(
            warehouse=warehouse, data=data, dry_run=dry_run, correct=bool(options.get("correct"))
        )

    def record_view(self, request: HttpRequest, order_id: int):
        if not request.user.has_perm("confirmations.add_shipment"):
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
        return TemplateResponse(request, "shipments/record_shipment.html", context)

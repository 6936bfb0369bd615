import datetime as dt

from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from connections.admin_scoping import StoreScopedAdminMixin
from fulfillment.core.paginators import EstimatedCountPaginator
from fulfillment.ops.selectors import order_timeline
from fulfillment.orders.models import Order, OrderLine, UnreadableOrder, Warehouse
from fulfillment.orders.selectors import orders_search
from fulfillment.orders.services.release import (
    ADDRESS_MISSING_REASON,
    BUYER_CANCELLATION_REASON,
    NOTHING_TO_SHIP_REASON,
    orders_recheck_holds,
)
from fulfillment.privacy.services import buyer_data_viewed_in_admin
from fulfillment.shipments.admin import AmazonRefusedFilter, ShipmentConfirmationInline
from fulfillment.shipments.selectors import order_state_text, orders_with_amazon_refusal


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "time_zone", "city", "country_code", "operations_email")
    search_fields = ("code", "name", "city")
    list_filter = ("country_code",)
    fieldsets = (
        (None, {"fields": ("code", "name", "time_zone", "operations_email")}),
        (
            "Ship-from address",
            {
                "fields": (
                    "address_name",
                    "address_line1",
                    "address_line2",
                    "city",
                    "state_or_region",
                    "postal_code",
                    "country_code",
                    "phone",
                )
            },
        ),
    )


# --- Orders --------------------------------------------------------------------


class HoldReasonFilter(admin.SimpleListFilter):
    title = "hold reason"
    parameter_name = "hold"
    _MATCH = {
        "sku": "not mapped",
        "shipping": "no shipping method",
        "address": ADDRESS_MISSING_REASON,
        "cancel": BUYER_CANCELLATION_REASON,
        "nothing": NOTHING_TO_SHIP_REASON,
    }

    def lookups(self, request, model_admin):
        return (
            ("any", "Any hold"),
            ("sku", "SKU not mapped"),
            ("shipping", "No shipping method"),
            ("address", "Address missing"),
            ("cancel", "Buyer requested cancellation"),
            ("nothing", "No items to ship"),
        )

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        held = queryset.filter(status=Order.Status.HELD)
        if value in self._MATCH:
            return held.filter(hold_reasons__icontains=self._MATCH[value])
        return held


class ShipByFilter(admin.SimpleListFilter):
    title = "ship by"
    parameter_name = "ship_by"

    def lookups(self, request, model_admin):
        return (("overdue", "Overdue"), ("today", "Within 24 hours"), ("later", "Later"))

    def queryset(self, request, queryset):
        now = timezone.now()
        open_orders = queryset.exclude(status__in=Order.CLOSED_STATUSES)
        if self.value() == "overdue":
            return open_orders.filter(ship_by_latest__lt=now)
        if self.value() == "today":
            return open_orders.filter(ship_by_latest__gte=now, ship_by_latest__lt=now + dt.timedelta(days=1))
        if self.value() == "later":
            return open_orders.filter(ship_by_latest__gte=now + dt.timedelta(days=1))
        return queryset


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = (
        "order_item_id",
        "amazon_sku",
        "asin",
        "title",
        "quantity_ordered",
        "quantity_shipped",
        "quantity_cancelled",
        "warehouse_skus",
        "gift_message",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="warehouse SKUs")
    def warehouse_skus(self, line: OrderLine) -> str:
        return ", ".join(f"{c['warehouse_sku']} × {c['units']}" for c in line.components) or "–"


@admin.register(Order)
class OrderAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "amazon_order_id",
        "store",
        "state",
        "amazon_status",
        "service_level",
        "is_prime",
        "is_business",
        "ship_by_latest",
        "purchased_at",
        "hold_summary",
    )
    list_filter = (
        "status",
        AmazonRefusedFilter,
        ShipByFilter,
        HoldReasonFilter,
        "is_prime",
        "is_business",
        "store",
    )
    list_select_related = ("store",)
    # Shows the search box; the search itself is orders_search (get_search_results).
    search_fields = ("amazon_order_id",)
    search_help_text = "Amazon order id or Amazon SKU of a line (exact)."
    date_hierarchy = None
    show_full_result_count = False  # the order table grows large; one COUNT less per page
    paginator = EstimatedCountPaginator
    actions = ("recheck_holds",)
    inlines = (OrderLineInline, ShipmentConfirmationInline)
    # Adds "Record shipment" and the timeline (fulfillment/ops).
    change_form_template = "ops/order_change_form.html"
    _FIELDSETS = (
        (None, {"fields": ("store", "amazon_order_id", "state_in_full", "amazon_status", "hold_list")}),
        (
            "Shipping",
            {
                "fields": (
                    "service_level",
                    "is_prime",
                    "carrier",
                    "ship_code",
                    "ship_by_earliest",
                    "ship_by_latest",
                    "deliver_by_earliest",
                    "deliver_by_latest",
                    "ship_to_country",
                )
            },
        ),
        ("Order", {"fields": ("purchased_at", "is_business", "is_gift", "gift_message", "marketplace_id")}),
        (
            "Lifecycle",
            {
                "fields": (
                    "amazon_updated_at",
                    "released_at",
                    "acknowledged_at",
                    "shipped_by_us_at",
                    "buyer_cancellation_requested",
                    "cancelled_at",
                    "shipped_outside_at",
                    "wms_stop_requested_at",
                    "cancellation_acknowledged_at",
                )
            },
        ),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(self._FIELDSETS)
        if request.user.has_perm("fulfillment.view_order_address"):
            fieldsets.insert(2, ("Ship to", {"fields": ("ship_to",)}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        # Orders are Amazon's facts and the product's decisions: nobody edits them by hand.
        return [f for _, opts in self.get_fieldsets(request, obj) for f in opts["fields"]]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        # "Shipped, Amazon refused: ..." comes in the list's own query (a subquery).
        return orders_with_amazon_refusal(orders=super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        # An exact id match and a SKU subquery, each on its index: never a join to every line.
        return orders_search(orders=queryset, term=search_term), False

    @admin.display(description="status", ordering="status")
    def state(self, order: Order) -> str:
        return order_state_text(order=order, refusal=getattr(order, "amazon_refusal", None), limit=80)

    @admin.display(description="status")
    def state_in_full(self, order: Order) -> str:
        return order_state_text(order=order, refusal=getattr(order, "amazon_refusal", None))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["timeline"] = order_timeline(order=obj)
            context["can_record_shipment"] = obj.status in Order.FROZEN_STATUSES and request.user.has_perm(
                "confirmations.add_shipment"
            )
            # Every field is read-only: no Save buttons that would save nothing.
            context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
            # Amazon's DPP: every view of an address or gift message is audited.
            buyer_data_viewed_in_admin(request=request, order=obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="hold reasons")
    def hold_summary(self, order: Order) -> str:
        return "; ".join(order.hold_reasons) if order.status == Order.Status.HELD else ""

    @admin.display(description="hold reasons")
    def hold_list(self, order: Order):
        if not order.hold_reasons:
            return "–"
        return format_html_join(mark_safe("<br>"), "{}", ((r,) for r in order.hold_reasons))

    @admin.display(description="ship-to address")
    def ship_to(self, order: Order):
        data = order.recipient_data
        if not data:
            return "–"
        parts = [
            data.get("name"),
            data.get("companyName"),
            data.get("addressLine1"),
            data.get("addressLine2"),
            data.get("addressLine3"),
            " ".join(p for p in (data.get("postalCode"), data.get("city"), data.get("stateOrRegion")) if p),
            data.get("countryCode"),
            data.get("phone"),
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((p,) for p in parts if p))

    @admin.action(description="Re-check holds", permissions=["change"])
    def recheck_holds(self, request, queryset):
        held = queryset.filter(status=Order.Status.HELD).select_related("store")
        counts = orders_recheck_holds(orders=held)
        self.message_user(
            request,
            f"{counts.released} order(s) released, {counts.held} still held.",
            messages.SUCCESS if counts.released else messages.INFO,
        )


# --- Unreadable orders ---------------------------------------------------------


class UnreadableOpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return (("yes", "Open"), ("no", "Resolved"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class UnreadableFieldFilter(admin.SimpleListFilter):
    """By the field at fault, whatever item it was on (orderItems[2].quantityOrdered -> quantityOrdered)."""

    title = "field at fault"
    parameter_name = "field"

    def lookups(self, request, model_admin):
        fields = model_admin.get_queryset(request).values_list("field", flat=True).distinct()
        leaves = sorted({f.rsplit(".", 1)[-1] or "(database)" for f in fields})
        return [(leaf, leaf) for leaf in leaves]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == "(database)":
            return queryset.filter(field="")
        return queryset.filter(field__endswith=value)


@admin.register(UnreadableOrder)
class UnreadableOrderAdmin(StoreScopedAdminMixin, admin.ModelAdmin):
    """Orders Amazon sent that the download could not read or store, each set aside on its own."""

    list_display = (
        "amazon_order_id",
        "store",
        "field",
        "reason",
        "first_seen_at",
        "last_seen_at",
        "last_retry_at",
        "state",
    )
    list_filter = (UnreadableOpenFilter, UnreadableFieldFilter, "store")
    list_select_related = ("store",)
    search_fields = ("amazon_order_id",)
    actions = ("retry",)
    fields = readonly_fields = (
        "store",
        "amazon_order_id",
        "field",
        "reason",
        "first_seen_at",
        "last_seen_at",
        "last_retry_at",
        "resolved_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="state", ordering="resolved_at")
    def state(self, row: UnreadableOrder) -> str:
        return "open" if row.is_open else f"resolved {row.resolved_at:%Y-%m-%d %H:%M}"

    @admin.action(description="Retry (read the order again from Amazon)", permissions=["change"])
    def retry(self, request, queryset):
        from django_q.tasks import async_task

        from fulfillment.orders.tasks import UNREADABLE_RETRY_TASK

        ids = list(
            queryset.filter(resolved_at__isnull=True).exclude(amazon_order_id="").values_list("pk", flat=True)
        )
        for pk in ids:
            transaction.on_commit(lambda pk=pk: async_task(UNREADABLE_RETRY_TASK, pk))
        skipped = queryset.count() - len(ids)
        if ids:
            self.message_user(
                request,
                f"{len(ids)} order(s) queued to be read again with getOrder; refresh to see the result.",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request, f"{skipped} skipped: already resolved, or without an order id.", messages.WARNING
            )

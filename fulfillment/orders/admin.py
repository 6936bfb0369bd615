import datetime as dt
import operator
from functools import reduce
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from connections.admin_scoping import StoreScopedAdminMixin
from connections.models import Store
from fulfillment.core.paginators import EstimatedCountPaginator
from fulfillment.ops.selectors import order_timeline
from fulfillment.orders.models import WMS_SHIP_BY_KEY, Holiday, Order, OrderLine, UnreadableOrder, Warehouse
from fulfillment.orders.selectors import orders_search
from fulfillment.orders.services.release import (
    ADDRESS_MISSING_REASON,
    BUYER_CANCELLATION_REASON,
    NOTHING_TO_SHIP_REASON,
    order_hold_fixes,
    orders_recheck_holds,
)
from fulfillment.orders.services.ship_risk import ShipRisk, order_ship_risk, ship_risk_q, shipping_calendars
from fulfillment.privacy.services import buyer_data_viewed_in_admin
from fulfillment.shipments.admin import AmazonRefusedFilter, ShipmentConfirmationInline
from fulfillment.shipments.selectors import order_state_text, orders_with_amazon_refusal


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1
    fields = ("date", "name")
    verbose_name_plural = "holidays (days the warehouse does not ship)"


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "time_zone",
        "cutoff_time",
        "working_days",
        "city",
        "country_code",
        "operations_email",
    )
    search_fields = ("code", "name", "city")
    list_filter = ("country_code",)
    inlines = (HolidayInline,)
    fieldsets = (
        (None, {"fields": ("code", "name", "time_zone", "operations_email")}),
        (
            "Shipping calendar",
            {
                "fields": ("cutoff_time", "working_days"),
                "description": "Ship-risk (on track, at risk, late) counts the cut-offs left before "
                "an order's ship-by: on these weekdays, not on the holidays below.",
            },
        ),
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
        "sku": ("not mapped", "unknown to the warehouse"),
        "shipping": "no shipping method",
        "address": ADDRESS_MISSING_REASON,
        "cancel": BUYER_CANCELLATION_REASON,
        "nothing": NOTHING_TO_SHIP_REASON,
    }

    def lookups(self, request, model_admin):
        return (
            ("any", "Any hold"),
            ("sku", "SKU not mapped or unknown"),
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
            match = self._MATCH[value]
            words = match if isinstance(match, tuple) else (match,)
            return held.filter(reduce(operator.or_, (Q(hold_reasons__icontains=w) for w in words)))
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


def _ship_calendars(request):
    """The warehouses' shipping calendars, read once per request (two queries)."""
    cached = getattr(request, "_ship_calendars", None)
    if cached is None:
        now = timezone.now()
        cached = request._ship_calendars = (now, shipping_calendars(now=now))
    return cached


class ShipRiskFilter(admin.SimpleListFilter):
    """Open orders on track, at risk or late: the rule of services/ship_risk.py."""

    title = "ship risk"
    parameter_name = "ship_risk"

    def lookups(self, request, model_admin):
        return ShipRisk.choices

    def queryset(self, request, queryset):
        if self.value() in ShipRisk.values:
            now, calendars = _ship_calendars(request)
            return queryset.filter(ship_risk_q(self.value(), now=now, calendars=calendars))
        return queryset


class StatusFilter(admin.SimpleListFilter):
    """The statuses, and all open ones at once (sorted by ship-by)."""

    title = "status"
    parameter_name = "status__exact"  # the built-in filter's name: old links keep working
    OPEN = "open"

    def lookups(self, request, model_admin):
        return [(self.OPEN, "Open (not shipped or cancelled)"), *Order.Status.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.OPEN:
            return queryset.filter(status__in=Order.OPEN_STATUSES)
        if value in Order.Status.values:
            return queryset.filter(status=value)
        return queryset


class WmsStopFilter(admin.SimpleListFilter):
    title = "warehouse stop"
    parameter_name = "wms_stop"

    def lookups(self, request, model_admin):
        return (("pending", "Not yet acknowledged by the warehouse"),)

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.wms_stop_pending()
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
    # Ship-by right after the order id: visible without scrolling at 1366 px.
    list_display = (
        "amazon_order_id",
        "ship_by",
        "risk",
        "store",
        "state",
        "service_level",
        "is_prime",
        "hold_summary",
        "purchased_at",
        "amazon_status",
    )
    # Status, Prime, held and store together at the top of the sidebar.
    list_filter = (
        StatusFilter,
        "is_prime",
        HoldReasonFilter,
        "store",
        ShipRiskFilter,
        ShipByFilter,
        WmsStopFilter,
        AmazonRefusedFilter,
        "is_business",
    )
    change_list_template = "orders/order_change_list.html"
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

    def get_changelist_instance(self, request):
        # Each row's ship risk, decided once for the page (the columns read it; no query).
        cl = super().get_changelist_instance(request)
        now, calendars = _ship_calendars(request)
        for order in cl.result_list:
            order.ship_risk_today = order_ship_risk(order, now=now, calendars=calendars)
        return cl

    def get_ordering(self, request):
        # Open orders: the most urgent first (orders without a ship-by last).
        if request.GET.get("status__exact") in (StatusFilter.OPEN, *Order.OPEN_STATUSES) or (
            request.GET.get("ship_risk") or request.GET.get("ship_by")
        ):
            # The key the (status, ship-by, id) index is built on (orders without a
            # ship-by sort last), so a status's page is one index range at any size.
            return [WMS_SHIP_BY_KEY.asc(), F("id").asc()]
        return super().get_ordering(request)

    @admin.display(description="ship by", ordering="ship_by_latest")
    def ship_by(self, order: Order):
        if order.ship_by_latest is None:
            return "–"
        risk, due_today = getattr(order, "ship_risk_today", ("", False))
        css = "ship-by"
        if risk == ShipRisk.LATE:
            css += " ship-by-late"
        elif due_today:
            css += " ship-by-today"
        local = timezone.localtime(order.ship_by_latest)
        return format_html('<span class="{}">{}</span>', css, f"{local:%b %d, %H:%M}")

    @admin.display(description="risk")
    def risk(self, order: Order):
        risk, _ = getattr(order, "ship_risk_today", ("", False))
        if not risk:
            return ""
        return format_html('<span class="risk risk-{}">{}</span>', risk, ShipRisk(risk).label)

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
        if order.status != Order.Status.HELD:
            return format_html_join(mark_safe("<br>"), "{}", ((r,) for r in order.hold_reasons))
        # The exceptions queue: each reason with Re-check (the order's form posts
        # to the re-check URL) and the mapping that would fix it, prefilled.
        recheck = reverse("admin:fulfillment_order_recheck", args=[order.pk])
        by_asin = order.store.product_code_field == Store.ProductCode.ASIN
        rows = []  # each one built by format_html
        for fix in order_hold_fixes(order=order, by_asin=by_asin):
            link = ""
            if fix.mapping:
                model = {"sku": "skumapping", "shipping_method": "shippingmethodmapping"}[fix.mapping]
                url = reverse(f"admin:mappings_{model}_add") + "?" + urlencode(fix.initial)
                label = {"sku": "Add SKU mapping", "shipping_method": "Add shipping method"}[fix.mapping]
                link = format_html(' <a class="hold-fix" href="{}">{}</a>', url, label)
            rows.append(
                format_html(
                    '<li>{} <button type="submit" class="button hold-recheck" formaction="{}" '
                    'formmethod="post" name="_recheck" value="1">Re-check</button>{}</li>',
                    fix.reason,
                    recheck,
                    link,
                )
            )
        return format_html(
            '<ul class="hold-reasons">{}</ul>', format_html_join("", "{}", ((row,) for row in rows))
        )

    def get_urls(self):
        return [
            path(
                "<int:order_id>/recheck/",
                self.admin_site.admin_view(self.recheck_view),
                name="fulfillment_order_recheck",
            ),
            *super().get_urls(),
        ]

    def recheck_view(self, request, order_id: int):
        """*Re-check* beside a hold reason: decide the order again, reasons recomputed."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = get_object_or_404(self.get_queryset(request).select_related("store"), pk=order_id)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        counts = orders_recheck_holds(orders=[order])
        order.refresh_from_db(fields=["status", "hold_reasons"])
        if counts.released:
            self.message_user(request, "Released to the warehouse.", messages.SUCCESS)
        elif order.status == Order.Status.HELD:
            self.message_user(request, "Still held: " + "; ".join(order.hold_reasons), messages.WARNING)
        else:
            self.message_user(request, f"Not held any more ({order.get_status_display()}).", messages.INFO)
        return HttpResponseRedirect(reverse("admin:fulfillment_order_change", args=[order.pk]))

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

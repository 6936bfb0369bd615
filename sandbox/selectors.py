"""Reads of the emulated Amazon, and the wire shapes its answers take."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from .models import PageOrder, PoisonKind, SandboxOrder, SandboxOrderItem, SandboxPackage, SandboxSeller

# Amazon's `createdBefore`/`lastUpdatedBefore` must be at least this far in the past.
TWO_MINUTES = dt.timedelta(minutes=2)
MAX_RESULTS_PER_PAGE = 100


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> dt.datetime:
    """ISO 8601 as Amazon accepts it; a naive time is UTC. ValueError otherwise."""
    parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


_DOMAINS = {
    "US": "amazon.com", "CA": "amazon.ca", "MX": "amazon.com.mx", "BR": "amazon.com.br",
    "GB": "amazon.co.uk", "UK": "amazon.co.uk", "IE": "amazon.ie", "DE": "amazon.de", "FR": "amazon.fr",
    "IT": "amazon.it", "ES": "amazon.es", "NL": "amazon.nl", "BE": "amazon.com.be", "SE": "amazon.se",
    "PL": "amazon.pl", "TR": "amazon.com.tr", "EG": "amazon.eg", "SA": "amazon.sa", "AE": "amazon.ae",
    "IN": "amazon.in", "ZA": "amazon.co.za", "SG": "amazon.sg", "AU": "amazon.com.au", "JP": "amazon.co.jp",
}  # fmt: skip


def marketplace_domain(code: str) -> str:
    return _DOMAINS.get(code, "amazon.com")


def _window(earliest: dt.datetime | None, latest: dt.datetime | None) -> dict | None:
    if earliest is None and latest is None:
        return None
    window = {}
    if earliest:
        window["earliestDateTime"] = iso(earliest)
    if latest:
        window["latestDateTime"] = iso(latest)
    return window


def order_item_as_wire(item: SandboxOrderItem, *, currency: str, included: set[str], status: str) -> dict:
    wire: dict = {
        "orderItemId": item.order_item_id,
        "quantityOrdered": item.quantity_ordered,
        "product": {
            "asin": item.asin,
            "title": item.title,
            "sellerSku": item.sku,
            "condition": {"conditionType": "New", "conditionSubtype": "New"},
            "price": {"unitPrice": {"amount": f"{item.unit_price:.2f}", "currencyCode": currency}},
        },
    }
    if "PROCEEDS" in included:
        total = item.unit_price * item.quantity_ordered
        wire["proceeds"] = {"proceedsTotal": {"amount": f"{total:.2f}", "currencyCode": currency}}
    if "FULFILLMENT" in included:
        unfulfilled = 0 if status == "CANCELLED" else item.quantity_ordered - item.quantity_shipped
        fulfillment: dict = {"quantityFulfilled": item.quantity_shipped, "quantityUnfulfilled": unfulfilled}
        if item.gift_message or item.gift_wrap_level:
            gift = {}
            if item.gift_message:
                gift["giftMessage"] = item.gift_message
            if item.gift_wrap_level:
                gift["giftWrapLevel"] = item.gift_wrap_level
            fulfillment["packing"] = {"giftOption": gift}
        wire["fulfillment"] = fulfillment
    if "CANCELLATION" in included and item.buyer_cancel_requested:
        wire["cancellation"] = {
            "cancellationRequest": {"requester": "BUYER", "cancelReason": item.buyer_cancel_reason}
        }
    return wire


def package_as_wire(package: SandboxPackage) -> dict:
    return {
        "packageReferenceId": package.package_reference_id,
        "createdTime": iso(package.created_at),
        "packageStatus": {"status": "SHIPPED"},
        "carrier": package.carrier_name or package.carrier_code,
        "shipTime": iso(package.ship_date),
        "shippingService": package.shipping_method or "Standard",
        "trackingNumber": package.tracking_number,
        "packageItems": [{"orderItemId": i["orderItemId"], "quantity": i["quantity"]} for i in package.items],
    }


def order_as_wire(order: SandboxOrder, *, included: set[str]) -> dict:
    """Orders 2026-01-01 `Order`; `included` is the request's `includedData`."""
    items = list(order.items.all())
    wire: dict = {
        "orderId": order.order_id,
        "createdTime": iso(order.created_time),
        "lastUpdatedTime": iso(order.last_updated_time),
        "programs": list(order.programs),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": order.marketplace.marketplace_id,
            "marketplaceName": marketplace_domain(order.marketplace.code).capitalize(),
        },
        "orderItems": [
            order_item_as_wire(i, currency=order.currency, included=included, status=order.status)
            for i in items
        ],
    }
    if "BUYER" in included and order.buyer:
        wire["buyer"] = dict(order.buyer)
    if "RECIPIENT" in included and order.delivery_address:
        wire["recipient"] = {"deliveryAddress": dict(order.delivery_address)}
    if "PROCEEDS" in included:
        total = sum((i.unit_price * i.quantity_ordered for i in items), start=0)
        wire["proceeds"] = {"grandTotal": {"amount": f"{total:.2f}", "currencyCode": order.currency}}
    if "FULFILLMENT" in included:
        fulfillment: dict = {
            "fulfillmentStatus": order.status,
            "fulfilledBy": order.fulfilled_by,
            "fulfillmentServiceLevel": order.service_level,
        }
        ship_by = _window(order.ship_by_earliest, order.ship_by_latest)
        deliver_by = _window(order.deliver_by_earliest, order.deliver_by_latest)
        if ship_by:
            fulfillment["shipByWindow"] = ship_by
        if deliver_by:
            fulfillment["deliverByWindow"] = deliver_by
        wire["fulfillment"] = fulfillment
    if "PACKAGES" in included:
        wire["packages"] = [package_as_wire(p) for p in order.packages.all()]
    if order.poison:
        _poison(wire, order.poison)
    return wire


def _poison(wire: dict, kind: str) -> None:
    """Break the order's wire shape as `kind` says. Poison orders deliberately fail
    Amazon's model: they are for the product's tests of orders it cannot read."""
    items = wire["orderItems"]
    first = items[0] if items else {}
    if kind == PoisonKind.QUANTITY_NOT_INTEGER:
        first["quantityOrdered"] = 1.5
    elif kind == PoisonKind.QUANTITY_NEGATIVE:
        first["quantityOrdered"] = -1
    elif kind == PoisonKind.QUANTITY_TOO_LARGE:
        first["quantityOrdered"] = 2**31
    elif kind == PoisonKind.FULFILLMENT_MISSING:
        wire.pop("fulfillment", None)
    elif kind == PoisonKind.ITEM_ID_MISSING:
        first.pop("orderItemId", None)
    elif kind == PoisonKind.SKU_TOO_LONG:
        first.setdefault("product", {})["sellerSku"] = "SKU-" + "X" * 296
    elif kind == PoisonKind.SERVICE_LEVEL_TOO_LONG:
        wire.setdefault("fulfillment", {})["fulfillmentServiceLevel"] = ("SCHEDULED_DELIVERY_" * 4)[:60]
    elif kind == PoisonKind.TIME_WITHOUT_ZONE:
        wire["createdTime"] = wire["createdTime"].rstrip("Z")
    elif kind == PoisonKind.NO_ITEMS:
        wire["orderItems"] = []
    elif kind == PoisonKind.ZERO_QUANTITIES:
        for item in items:
            item["quantityOrdered"] = 0


def orders_for_wire() -> QuerySet[SandboxOrder]:
    """Orders with everything `order_as_wire` reads, in a fixed number of queries."""
    return SandboxOrder.objects.select_related("marketplace").prefetch_related(
        Prefetch("items", queryset=SandboxOrderItem.objects.order_by("order_item_id")),
        Prefetch("packages", queryset=SandboxPackage.objects.order_by("created_at", "pk")),
    )


class SearchError(ValueError):
    """A searchOrders request Amazon would refuse with 400 InvalidInput."""


@dataclass(frozen=True)
class OrderSearch:
    """Everything a searchOrders page depends on; a nextToken carries it whole."""

    by: str  # "created" or "updated"
    after: dt.datetime
    before: dt.datetime
    statuses: tuple[str, ...] = ()
    marketplace_ids: tuple[str, ...] = ()
    fulfilled_by: tuple[str, ...] = ()
    page_size: int = MAX_RESULTS_PER_PAGE
    included: tuple[str, ...] = ()
    # Sort key of the last order returned: (time, orderId), or (shuffle key, orderId).
    position: tuple[str, str] | None = None
    page: int = 1
    # How the pages of this search are ordered (the sandbox's page-order switch
    # when the search began) and, when shuffled, the seed of the shuffle.
    page_order: str = PageOrder.OLDEST_FIRST
    shuffle_seed: str = ""

    def to_token(self) -> str:
        data = {
            "by": self.by,
            "after": iso_precise(self.after),
            "before": iso_precise(self.before),
            "st": list(self.statuses),
            "mp": list(self.marketplace_ids),
            "fb": list(self.fulfilled_by),
            "n": self.page_size,
            "inc": list(self.included),
            "pos": list(self.position) if self.position else None,
            "page": self.page,
            "ord": self.page_order,
            "seed": self.shuffle_seed,
        }
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()

    @classmethod
    def from_token(cls, token: str) -> OrderSearch:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            return cls(
                by=data["by"],
                after=parse_iso(data["after"]),
                before=parse_iso(data["before"]),
                statuses=tuple(data["st"]),
                marketplace_ids=tuple(data["mp"]),
                fulfilled_by=tuple(data["fb"]),
                page_size=int(data["n"]),
                included=tuple(data.get("inc", ())),
                position=tuple(data["pos"]) if data["pos"] else None,
                page=int(data.get("page", 1)),
                page_order=str(data.get("ord", PageOrder.OLDEST_FIRST)),
                shuffle_seed=str(data.get("seed", "")),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise SearchError("Invalid paginationToken.") from exc


def iso_precise(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def order_search_from_params(
    *,
    created_after: str = "",
    created_before: str = "",
    last_updated_after: str = "",
    last_updated_before: str = "",
    statuses: list[str] = (),
    marketplace_ids: list[str] = (),
    fulfilled_by: list[str] = (),
    max_results: str = "",
    included: tuple[str, ...] = (),
    now: dt.datetime | None = None,
) -> OrderSearch:
    """Validate searchOrders' query the way Amazon does (SearchError with Amazon's wording)."""
    now = now or timezone.now()
    if bool(created_after) == bool(last_updated_after):
        raise SearchError("Exactly one of createdAfter and lastUpdatedAfter must be provided.")
    if created_after and last_updated_before:
        raise SearchError("lastUpdatedBefore cannot be provided with createdAfter.")
    if last_updated_after and created_before:
        raise SearchError("createdBefore cannot be provided with lastUpdatedAfter.")
    by = "created" if created_after else "updated"
    after_raw, before_raw = (
        (created_after, created_before) if created_after else (last_updated_after, last_updated_before)
    )
    before_name = "createdBefore" if created_after else "lastUpdatedBefore"
    after_name = "createdAfter" if created_after else "lastUpdatedAfter"
    try:
        after = parse_iso(after_raw)
    except ValueError as exc:
        raise SearchError(f"Invalid {after_name}: {after_raw!r} is not an ISO 8601 date.") from exc
    if before_raw:
        try:
            before = parse_iso(before_raw)
        except ValueError as exc:
            raise SearchError(f"Invalid {before_name}: {before_raw!r} is not an ISO 8601 date.") from exc
        if before > now - TWO_MINUTES:
            raise SearchError(f"{before_name} must be at least 2 minutes before the time of the request.")
        if before < after:
            raise SearchError(f"{before_name} must be equal to or after {after_name}.")
    else:
        # Amazon's own cut-off: orders changed in the last two minutes wait for the next call.
        before = now - TWO_MINUTES
    if after > now - TWO_MINUTES:
        raise SearchError(f"{after_name} must be at least 2 minutes before the time of the request.")
    page_size = MAX_RESULTS_PER_PAGE
    if max_results:
        try:
            page_size = int(max_results)
        except ValueError as exc:
            raise SearchError("maxResultsPerPage must be an integer between 1 and 100.") from exc
        if not 1 <= page_size <= MAX_RESULTS_PER_PAGE:
            raise SearchError("maxResultsPerPage must be an integer between 1 and 100.")
    known = {
        "PENDING_AVAILABILITY",
        "PENDING",
        "UNSHIPPED",
        "PARTIALLY_SHIPPED",
        "SHIPPED",
        "CANCELLED",
        "UNFULFILLABLE",
    }
    unknown = [s for s in statuses if s not in known]
    if unknown:
        raise SearchError(f"Invalid fulfillmentStatuses: {', '.join(unknown)}.")
    bad_by = [f for f in fulfilled_by if f not in ("MERCHANT", "AMAZON")]
    if bad_by:
        raise SearchError(f"Invalid fulfilledBy: {', '.join(bad_by)}.")
    return OrderSearch(
        by=by,
        after=after,
        before=before,
        statuses=tuple(statuses),
        marketplace_ids=tuple(marketplace_ids),
        fulfilled_by=tuple(fulfilled_by),
        page_size=page_size,
        included=tuple(sorted(included)),
    )


def orders_search(
    *, seller: SandboxSeller, search: OrderSearch
) -> tuple[list[SandboxOrder], OrderSearch | None]:
    """One page of orders and the search that continues after it (None on the last page).

    Keyset pagination within a window pinned by the first page: no order is
    skipped or repeated while pages are read, and an order that changes
    meanwhile leaves the window and is found by the next download. Pages come
    in the search's `page_order`: by (time, orderId) up or down, or in a
    shuffled order that is fixed for the search (Amazon documents no order).
    """
    field = "created_time" if search.by == "created" else "last_updated_time"
    qs = orders_for_wire().filter(
        seller=seller, **{f"{field}__gte": search.after, f"{field}__lte": search.before}
    )
    if search.statuses:
        qs = qs.filter(status__in=search.statuses)
    if search.marketplace_ids:
        qs = qs.filter(marketplace__marketplace_id__in=search.marketplace_ids)
    if search.fulfilled_by:
        qs = qs.filter(fulfilled_by__in=search.fulfilled_by)
    if search.page_order == PageOrder.SHUFFLED:
        return _shuffled_page(qs, search)
    newest_first = search.page_order == PageOrder.NEWEST_FIRST
    if search.position:
        at, order_id = parse_iso(search.position[0]), search.position[1]
        after = "lt" if newest_first else "gt"
        qs = qs.filter(Q(**{f"{field}__{after}": at}) | Q(**{field: at, f"order_id__{after}": order_id}))
    ordering = (f"-{field}", "-order_id") if newest_first else (field, "order_id")
    page = list(qs.order_by(*ordering)[: search.page_size + 1])
    if len(page) <= search.page_size:
        return page, None
    page = page[: search.page_size]
    last = page[-1]
    position = (iso_precise(getattr(last, field)), last.order_id)
    return page, OrderSearch(**{**search.__dict__, "position": position, "page": search.page + 1})


def _shuffle_key(seed: str, order_id: str) -> str:
    return hashlib.sha256(f"{seed}:{order_id}".encode()).hexdigest()


def _shuffled_page(qs: QuerySet[SandboxOrder], search: OrderSearch):
    # The shuffle is a sort by a keyed hash of the order id: fixed for the
    # search (the seed travels in the token), unrelated to any time.
    ids = qs.values_list("order_id", flat=True)
    keyed = sorted((_shuffle_key(search.shuffle_seed, oid), oid) for oid in ids)
    if search.position:
        keyed = [k for k in keyed if k > tuple(search.position)]
    chosen = keyed[: search.page_size + 1]
    rows = {o.order_id: o for o in qs.filter(order_id__in=[oid for _, oid in chosen[: search.page_size]])}
    page = [rows[oid] for _, oid in chosen[: search.page_size] if oid in rows]
    if len(chosen) <= search.page_size:
        return page, None
    position = chosen[search.page_size - 1]
    return page, OrderSearch(**{**search.__dict__, "position": position, "page": search.page + 1})


# --- The /sandbox/ page --------------------------------------------------------------


@dataclass(frozen=True)
class SellerOverview:
    seller: SandboxSeller
    marketplaces: list[str]
    orders: int
    by_status: dict[str, int]


def sandbox_overview() -> list[SellerOverview]:
    """Every sandbox seller with its marketplaces and order counts by status, in 3 queries."""
    from django.db.models import Count

    from .models import SandboxOrder as Order

    counts: dict[int, dict[str, int]] = {}
    for row in Order.objects.order_by().values("seller_id", "status").annotate(n=Count("pk")):
        counts.setdefault(row["seller_id"], {})[row["status"]] = row["n"]
    sellers = SandboxSeller.objects.prefetch_related("marketplaces").order_by("selling_partner_id")
    return [
        SellerOverview(
            seller=seller,
            marketplaces=sorted(m.code for m in seller.marketplaces.all()),
            orders=sum(counts.get(seller.pk, {}).values()),
            by_status=counts.get(seller.pk, {}),
        )
        for seller in sellers
    ]

"""Writes of the emulated Amazon: credentials, grants, orders.

Views, the admin, commands and other engineers' tests call these; they take
keyword arguments only.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from connections.models import Marketplace
from connections.selectors import marketplaces_named

from .models import (
    FulfillmentStatus,
    SandboxAccessToken,
    SandboxApplication,
    SandboxAuthorizationCode,
    SandboxOrder,
    SandboxOrderItem,
    SandboxPackage,
    SandboxRefreshToken,
    SandboxSeller,
    ServiceLevel,
)

ACCESS_TOKEN_SECONDS = 3600
AUTHORIZATION_CODE_SECONDS = 300


class LwaError(Exception):
    """An LWA refusal: `error` is the OAuth error code, `status` the HTTP status."""

    def __init__(self, *, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def as_body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


# --- Credentials and sellers ---------------------------------------------------------


def sandbox_application_ensure() -> SandboxApplication:
    """The application the product's settings describe, registered with the sandbox."""
    application, _ = SandboxApplication.objects.update_or_create(
        client_id=settings.LWA_CLIENT_ID or "amzn1.application-oa2-client.sandbox",
        defaults=dict(
            client_secret=settings.LWA_CLIENT_SECRET or "sandbox-client-secret",
            application_id=settings.SP_API_APP_ID or "amzn1.sp.solution.sandbox",
            redirect_uri=settings.PUBLIC_BASE_URL + "/connections/oauth/callback/",
        ),
    )
    return application


def _marketplaces(names) -> list[Marketplace]:
    """Marketplaces by the names people and Amazon use (US, UK or GB, or the id)."""
    return [m for name in names for m in marketplaces_named(name=name)]


def sandbox_seller_ensure(
    *,
    selling_partner_id: str,
    name: str = "",
    marketplace_codes: tuple[str, ...] | list[str] = ("US",),
    refresh_token: str | None = None,
    not_participating_in: tuple[str, ...] | list[str] | None = None,
    listings_suspended_in: tuple[str, ...] | list[str] | None = None,
) -> SandboxSeller:
    """A sandbox seller selling in `marketplace_codes`.

    `not_participating_in` / `listings_suspended_in` (marketplace codes; None
    leaves them as they are) make getMarketplaceParticipations answer
    isParticipating false / hasSuspendedListings true there.

    With `refresh_token`, exactly that token becomes valid for the sandbox
    application, so a product Store already holding it can call straight away.
    """
    seller, created = SandboxSeller.objects.get_or_create(
        selling_partner_id=selling_partner_id,
        defaults=dict(name=name or f"Sandbox seller {selling_partner_id}"),
    )
    if name and not created and seller.name != name:
        seller.name = name
        seller.save(update_fields=["name"])
    seller.marketplaces.add(*_marketplaces(marketplace_codes))
    if not_participating_in is not None:
        seller.not_participating_in.set(_marketplaces(not_participating_in))
    if listings_suspended_in is not None:
        seller.listings_suspended_in.set(_marketplaces(listings_suspended_in))
    if refresh_token:
        SandboxRefreshToken.objects.update_or_create(
            token=refresh_token,
            defaults=dict(application=sandbox_application_ensure(), seller=seller, revoked_at=None),
        )
    return seller


def refresh_token_issue(*, application: SandboxApplication, seller: SandboxSeller) -> SandboxRefreshToken:
    return SandboxRefreshToken.objects.create(
        application=application, seller=seller, token="Atzr|" + secrets.token_urlsafe(48)
    )


def refresh_token_revoke(*, token: SandboxRefreshToken) -> None:
    SandboxRefreshToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())


def authorization_code_issue(
    *, application: SandboxApplication, seller: SandboxSeller, redirect_uri: str
) -> SandboxAuthorizationCode:
    return SandboxAuthorizationCode.objects.create(
        application=application,
        seller=seller,
        code="ANDb" + secrets.token_urlsafe(18),
        redirect_uri=redirect_uri,
        expires_at=timezone.now() + dt.timedelta(seconds=AUTHORIZATION_CODE_SECONDS),
    )


def _access_token_issue(
    *, application: SandboxApplication, seller: SandboxSeller | None, scope: str = ""
) -> SandboxAccessToken:
    return SandboxAccessToken.objects.create(
        application=application,
        seller=seller,
        scope=scope,
        token="Atza|" + secrets.token_urlsafe(48),
        expires_at=timezone.now() + dt.timedelta(seconds=ACCESS_TOKEN_SECONDS),
    )


def lwa_token_grant(
    *,
    grant_type: str,
    client_id: str,
    client_secret: str,
    refresh_token: str = "",
    code: str = "",
    redirect_uri: str = "",
    scope: str = "",
) -> dict:
    """POST /auth/o2/token: the answer body, or LwaError the way LWA refuses."""
    if grant_type not in ("refresh_token", "authorization_code", "client_credentials"):
        raise LwaError(status=400, error="unsupported_grant_type", description="Invalid grant_type")
    application = SandboxApplication.objects.filter(client_id=client_id).first()
    if application is None or not secrets.compare_digest(application.client_secret, client_secret or ""):
        raise LwaError(status=401, error="invalid_client", description="Client authentication failed")

    if grant_type == "client_credentials":
        if not scope:
            raise LwaError(status=400, error="invalid_scope", description="scope is required")
        token = _access_token_issue(application=application, seller=None, scope=scope)
        return {"access_token": token.token, "token_type": "bearer", "expires_in": ACCESS_TOKEN_SECONDS}

    if grant_type == "refresh_token":
        stored = (
            SandboxRefreshToken.objects.select_related("seller")
            .filter(token=refresh_token, application=application, revoked_at=None)
            .first()
        )
        if stored is None:
            raise LwaError(
                status=400,
                error="invalid_grant",
                description="The request has an invalid grant parameter : refresh_token",
            )
        token = _access_token_issue(application=application, seller=stored.seller)
        return {
            "access_token": token.token,
            "refresh_token": stored.token,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
        }

    # authorization_code: single use. The compare-and-set claims the code so two
    # concurrent exchanges cannot both succeed.
    now = timezone.now()
    with transaction.atomic():
        claimed = SandboxAuthorizationCode.objects.filter(
            code=code, application=application, used_at=None, expires_at__gt=now
        ).update(used_at=now)
        if claimed != 1:
            raise LwaError(
                status=400,
                error="invalid_grant",
                description="The request has an invalid grant parameter : code",
            )
        auth_code = SandboxAuthorizationCode.objects.select_related("seller").get(code=code)
        if redirect_uri and redirect_uri != auth_code.redirect_uri:
            raise LwaError(
                status=400,
                error="invalid_grant",
                description="The request has an invalid grant parameter : redirect_uri",
            )
        stored = refresh_token_issue(application=application, seller=auth_code.seller)
        token = _access_token_issue(application=application, seller=auth_code.seller)
    return {
        "access_token": token.token,
        "refresh_token": stored.token,
        "token_type": "bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
    }


# --- Orders --------------------------------------------------------------------------

_FIRST_NAMES = [
    "Ava",
    "Liam",
    "Noah",
    "Emma",
    "Olivia",
    "Mason",
    "Sofia",
    "Lucas",
    "Mia",
    "Ethan",
    "Zoé",
    "José",
]
_LAST_NAMES = [
    "Smith",
    "Johnson",
    "Garcia",
    "Brown",
    "Miller",
    "Davis",
    "Martínez",
    "Wilson",
    "Nguyen",
    "O'Brien",
]
_STREETS = ["Main St", "Oak Ave", "Maple Dr", "2nd St", "Park Blvd", "Lakeview Rd", "Cedar Ln", "Elm St"]
_CITIES = [
    ("Seattle", "WA", "98101"),
    ("Austin", "TX", "73301"),
    ("Edison", "NJ", "08817"),
    ("Denver", "CO", "80202"),
    ("Miami", "FL", "33101"),
    ("Chicago", "IL", "60601"),
    ("Portland", "OR", "97201"),
    ("Boston", "MA", "02108"),
]
# The products sandbox orders are made of (demo data maps and stocks them).
SANDBOX_CATALOG = [
    ("ACME-MUG-11OZ", "B07MUG0011", "Acme ceramic mug, 11 oz", "12.99"),
    ("ACME-MUG-15OZ", "B07MUG0015", "Acme ceramic mug, 15 oz", "14.99"),
    ("ACME-TEE-M-BLK", "B08TEE00MB", "Acme T-shirt, M, black", "19.50"),
    ("ACME-TEE-L-WHT", "B08TEE00LW", "Acme T-shirt, L, white", "19.50"),
    ("ACME-BOTTLE-750", "B09BTL0750", "Acme steel bottle 750 ml", "24.00"),
    ("ACME-KIT-STARTER", "B09KIT0001", "Acme starter kit (mug + bottle)", "34.90"),
    ("ACME-SOCKS-3PK", "B0ASOCKS03", "Acme socks, 3 pack", "9.99"),
    ("ACME-CABLE-USB-C", "B0ACABLEUC", "Acme USB-C cable 2 m", "7.49"),
]
# Business days to ship and to deliver, per service level.
_SERVICE_DAYS = {
    ServiceLevel.STANDARD: (2, 7),
    ServiceLevel.EXPEDITED: (1, 3),
    ServiceLevel.SECOND_DAY: (1, 2),
    ServiceLevel.NEXT_DAY: (0, 1),
    ServiceLevel.PRIORITY: (0, 1),
    ServiceLevel.SAME_DAY: (0, 0),
    ServiceLevel.SCHEDULED: (1, 5),
    ServiceLevel.FREE_ECONOMY: (3, 10),
}
_GIFT_MESSAGES = [
    "Happy birthday!",
    "Congratulations on the new job",
    "Merry Christmas from all of us",
    "Thank you ♥",
]
_CANCEL_REASONS = ["Ordered by mistake", "Found a better price", "No longer needed", "Shipping too slow"]


def sandbox_now() -> dt.datetime:
    """The sandbox's "now" for orders placed and changed by a person (admin, command).

    Amazon's searchOrders answers only up to two minutes before the request, and
    the product asks up to three minutes back. The sandbox stamps a person's
    orders and changes `SANDBOX_NOW_LAG_SECONDS` (default 200) in the past, so
    the very next download sees them, as the demo wants; 0 is Amazon's timing.
    """
    return timezone.now() - dt.timedelta(seconds=settings.SANDBOX_NOW_LAG_SECONDS)


def sandbox_orders_place(
    *, seller: SandboxSeller, count: int, marketplace_code: str = "US", seed: int | None = None
) -> list[SandboxOrder]:
    """`count` new Unshipped orders placed just now (created and last updated within the last minute)."""
    now = sandbox_now()
    return sandbox_orders_create(
        seller=seller,
        count=count,
        seed=seed,
        marketplace_code=marketplace_code,
        created_after=now - dt.timedelta(minutes=1),
        created_before=now,
        # Placed a moment ago: nothing has happened to them yet.
        cancel_share=0.0,
        partially_shipped_share=0.0,
    )


def _order_id(rng: random.Random) -> str:
    return f"{rng.randrange(100, 1000)}-{rng.randrange(10**6, 10**7)}-{rng.randrange(10**6, 10**7)}"


def sandbox_orders_create(
    *,
    seller: SandboxSeller,
    count: int,
    seed: int | None = None,
    marketplace_code: str = "US",
    created_after: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
    status: str | None = None,
    cancel_share: float = 0.05,
    partially_shipped_share: float = 0.05,
    batch_size: int = 2000,
) -> list[SandboxOrder]:
    """`count` realistic orders (1-4 items, every service level, Prime, business, gifts).

    Deterministic for a given `seed` (ids and contents; timestamps are drawn
    inside the window, which defaults to the last 3 days ending 5 minutes ago
    so the two-minute rule does not hide them). A share is cancelled after
    creation (some at the buyer's request) and a share partially shipped,
    unless `status` forces one status for all.
    """
    rng = random.Random(seed)
    marketplace = Marketplace.objects.get(code=marketplace_code)
    seller.marketplaces.add(marketplace)
    now = timezone.now()
    window_end = created_before or now - dt.timedelta(minutes=5)
    window_start = created_after or window_end - dt.timedelta(days=3)
    span = max((window_end - window_start).total_seconds(), 1.0)
    levels = list(ServiceLevel)
    created: list[SandboxOrder] = []

    remaining = count
    while remaining > 0:
        n = min(batch_size, remaining)
        remaining -= n
        orders: list[SandboxOrder] = []
        items: list[SandboxOrderItem] = []
        for i in range(n):
            level = levels[(len(created) + i) % len(levels)] if count >= len(levels) else rng.choice(levels)
            created_time = window_start + dt.timedelta(seconds=rng.uniform(0, span))
            ship_days, deliver_days = _SERVICE_DAYS[level]
            programs = []
            if rng.random() < 0.3:
                programs.append("PRIME")
            business = rng.random() < 0.1
            if business:
                programs.append("AMAZON_BUSINESS")
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            city, state, postal = rng.choice(_CITIES)
            company = f"{last} Supplies LLC" if business else ""
            address = {
                "name": f"{first} {last}",
                "addressLine1": f"{rng.randrange(1, 9999)} {rng.choice(_STREETS)}",
                "city": city,
                "stateOrRegion": state,
                "postalCode": postal,
                "countryCode": marketplace_code if marketplace_code != "UK" else "GB",
                "phone": f"+1 206-555-{rng.randrange(1000, 10000)}",
                "addressType": "COMMERCIAL" if business else "RESIDENTIAL",
            }
            if company:
                address["companyName"] = company
            if rng.random() < 0.2:
                address["addressLine2"] = f"Apt {rng.randrange(1, 400)}"
            buyer = {
                "buyerName": f"{first} {last}",
                "buyerEmail": f"{secrets_token(rng)}@marketplace.amazon.com",
            }
            if business:
                buyer["buyerCompanyName"] = company
                buyer["buyerPurchaseOrderNumber"] = f"PO-{rng.randrange(10000, 99999)}"
            order = SandboxOrder(
                seller=seller,
                marketplace=marketplace,
                order_id=_order_id(rng),
                created_time=created_time,
                last_updated_time=created_time,
                status=status or FulfillmentStatus.UNSHIPPED,
                service_level=level,
                programs=programs,
                ship_by_earliest=created_time,
                ship_by_latest=created_time + dt.timedelta(days=ship_days, hours=12),
                deliver_by_earliest=created_time + dt.timedelta(days=max(deliver_days - 1, 0)),
                deliver_by_latest=created_time + dt.timedelta(days=deliver_days, hours=20),
                buyer=buyer,
                delivery_address=address,
                currency=marketplace.currency,
            )
            orders.append(order)
            gift = rng.random() < 0.1
            order_items = []
            for sku, asin, title, price in rng.sample(SANDBOX_CATALOG, rng.choice((1, 1, 1, 2, 2, 3, 4))):
                order_items.append(
                    SandboxOrderItem(
                        order=order,
                        order_item_id=f"{rng.randrange(10**13, 10**14)}",
                        sku=sku,
                        asin=asin,
                        title=title,
                        quantity_ordered=rng.choice((1, 1, 1, 2, 3)),
                        unit_price=Decimal(price),
                        gift_message=rng.choice(_GIFT_MESSAGES) if gift else "",
                        gift_wrap_level="Classic" if gift else "",
                    )
                )
            if status is None:
                _apply_later_events(
                    rng=rng,
                    order=order,
                    items=order_items,
                    now=now,
                    cancel_share=cancel_share,
                    partially_shipped_share=partially_shipped_share,
                )
            items.extend(order_items)
        SandboxOrder.objects.bulk_create(orders, batch_size=1000)
        SandboxOrderItem.objects.bulk_create(items, batch_size=1000)
        created.extend(orders)

    return created


def secrets_token(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(14))


def _apply_later_events(
    *,
    rng: random.Random,
    order: SandboxOrder,
    items: list[SandboxOrderItem],
    now: dt.datetime,
    cancel_share: float,
    partially_shipped_share: float,
) -> None:
    """Cancellations and partial shipments that happen after the order was placed (in memory)."""
    roll = rng.random()
    later = order.created_time + dt.timedelta(minutes=rng.randrange(5, 600))
    later = max(min(later, now - dt.timedelta(minutes=3)), order.created_time)
    if roll < cancel_share:
        if rng.random() < 0.5:
            # The buyer asked first; Amazon then cancelled.
            for item in items:
                item.buyer_cancel_requested = True
                item.buyer_cancel_reason = rng.choice(_CANCEL_REASONS)
        order.status = FulfillmentStatus.CANCELLED
        order.last_updated_time = later
    elif roll < cancel_share + partially_shipped_share:
        items[0].quantity_shipped = 1
        if items[0].quantity_ordered == 1 and len(items) == 1:
            items[0].quantity_ordered = 2
        order.status = FulfillmentStatus.PARTIALLY_SHIPPED
        order.last_updated_time = later


def sandbox_order_cancel(
    *,
    order: SandboxOrder,
    buyer_requested: bool = False,
    reason: str = "",
    when: dt.datetime | None = None,
) -> SandboxOrder:
    """Amazon cancels the order (or the buyer asks to): lastUpdatedTime moves."""
    if buyer_requested:
        SandboxOrderItem.objects.filter(order=order).update(
            buyer_cancel_requested=True, buyer_cancel_reason=reason or "Ordered by mistake"
        )
        return sandbox_order_update(order=order, when=when)
    return sandbox_order_update(order=order, when=when, status=FulfillmentStatus.CANCELLED)


def sandbox_order_ship_outside(*, order: SandboxOrder, when: dt.datetime | None = None) -> SandboxOrder:
    """The seller ships every unit itself (in Seller Central, not through the product)."""
    SandboxOrderItem.objects.filter(order=order).update(quantity_shipped=F("quantity_ordered"))
    return sandbox_order_update(order=order, when=when, status=FulfillmentStatus.SHIPPED)


def sandbox_order_update(*, order: SandboxOrder, when: dt.datetime | None = None, **changes) -> SandboxOrder:
    """Change order fields (e.g. status, delivery_address) and move lastUpdatedTime."""
    for field, value in changes.items():
        setattr(order, field, value)
    order.last_updated_time = when or timezone.now()
    order.save(update_fields=[*changes.keys(), "last_updated_time"])
    return order


# --- Shipment confirmation (Orders v0) -------------------------------------------------


class SpApiError(Exception):
    """An SP-API refusal in Amazon's `ErrorList` shape."""

    def __init__(self, *, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def _invalid(message: str, details: str = "") -> SpApiError:
    return SpApiError(status=400, code="InvalidInput", message=message, details=details)


def sandbox_shipment_confirm(*, seller: SandboxSeller, order_id: str, body) -> SandboxPackage:
    """confirmShipment: validate as Amazon does, record the package, move the order's status."""
    from connections.models import AcceptedCarrier

    from .amazon_models import schema_errors
    from .selectors import parse_iso

    if not isinstance(body, dict):
        raise _invalid("The request body is not valid JSON.")
    errors = schema_errors(body, schema="confirmShipmentRequest.json")
    if errors:
        raise _invalid("The request body is invalid.", "; ".join(errors))
    detail = body["packageDetail"]
    reference = detail["packageReferenceId"]
    if not reference.isdigit() or int(reference) < 1:
        raise _invalid("packageReferenceId must be a positive number.", f"packageReferenceId: {reference!r}")
    try:
        ship_date = parse_iso(detail["shipDate"])
    except ValueError as exc:
        raise _invalid(
            "shipDate must be in ISO 8601 date/time format.", f"shipDate: {detail['shipDate']!r}"
        ) from exc

    with transaction.atomic():
        # The order row lock serializes confirmations of one order (quantities, status).
        order = (
            SandboxOrder.objects.select_for_update()
            .select_related("marketplace")
            .filter(seller=seller, order_id=order_id)
            .first()
        )
        if order is None:
            raise SpApiError(status=404, code="NotFound", message=f"Order {order_id} was not found.")
        if body["marketplaceId"] != order.marketplace.marketplace_id:
            raise _invalid("The marketplaceId does not match the order's marketplace.")
        if order.status in (FulfillmentStatus.SHIPPED, FulfillmentStatus.CANCELLED):
            raise _invalid(f"The order is {order.status.lower()}; it cannot be confirmed again.")
        carrier_code = detail["carrierCode"]
        if carrier_code == "Other":
            if not detail.get("carrierName", "").strip():
                raise _invalid("carrierName is required when carrierCode is Other.")
        elif not AcceptedCarrier.objects.filter(marketplace=order.marketplace, code=carrier_code).exists():
            raise _invalid(f"carrierCode {carrier_code!r} is not accepted here; use Other with carrierName.")
        if SandboxPackage.objects.filter(order=order, package_reference_id=reference).exists():
            raise _invalid(f"packageReferenceId {reference} was already used for this order.")

        items = {i.order_item_id: i for i in order.items.all()}
        shipped: dict[str, int] = {}
        for line in detail["orderItems"]:
            if line["orderItemId"] not in items:
                raise _invalid(f"Order item {line['orderItemId']} is not part of order {order_id}.")
            if line["quantity"] < 1:
                raise _invalid(f"Quantity for order item {line['orderItemId']} must be at least 1.")
            shipped[line["orderItemId"]] = shipped.get(line["orderItemId"], 0) + line["quantity"]
        for item_id, quantity in shipped.items():
            if quantity > items[item_id].quantity_unshipped:
                raise _invalid(
                    f"Quantity {quantity} for order item {item_id} exceeds the unshipped quantity "
                    f"{items[item_id].quantity_unshipped}."
                )

        package = SandboxPackage.objects.create(
            order=order,
            package_reference_id=reference,
            carrier_code=carrier_code,
            carrier_name=detail.get("carrierName", ""),
            shipping_method=detail.get("shippingMethod", ""),
            tracking_number=detail["trackingNumber"],
            ship_date=ship_date,
            items=[{"orderItemId": k, "quantity": v} for k, v in shipped.items()],
        )
        for item_id, quantity in shipped.items():
            item = items[item_id]
            item.quantity_shipped += quantity
            item.save(update_fields=["quantity_shipped"])
        everything_shipped = all(i.quantity_unshipped == 0 for i in items.values())
        sandbox_order_update(
            order=order,
            status=FulfillmentStatus.SHIPPED if everything_shipped else FulfillmentStatus.PARTIALLY_SHIPPED,
        )
    return package

"""Amazon's orders in the sandbox: realistic orders generated for a seller, and
the changes Amazon, the buyer or the seller make to them afterwards.

Views, the admin, commands and other engineers' tests call these; they take
keyword arguments only.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from connections.models import Marketplace

from .models import FulfillmentStatus, SandboxOrder, SandboxOrderItem, SandboxSeller, ServiceLevel
from .notifications import BUYER_REQUESTED_CHANGE, STATUS_CHANGE, sandbox_order_changes_notify

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


class _Country:
    """How a marketplace's country writes an address: real cities with their region and
    postal code, its streets, whether the house number comes first, its phone prefix."""

    def __init__(self, phone: str, cities, streets, *, number_first: bool = False):
        self.phone, self.cities, self.streets, self.number_first = phone, cities, streets, number_first

    def street_line(self, number: int, street: str) -> str:
        return f"{number} {street}" if self.number_first else f"{street} {number}"


# An order of a German marketplace ships to Germany, not to Seattle: the release
# and the carrier defaults are per country, so the demo must show their countries.
_COUNTRIES = {
    "US": _Country("+1 206-555-", _CITIES, _STREETS, number_first=True),
    "CA": _Country(
        "+1 416-555-",
        [("Toronto", "ON", "M5V 2T6"), ("Montréal", "QC", "H2Y 1C6"), ("Vancouver", "BC", "V6B 1A1")],
        ["King St W", "Rue Sainte-Catherine", "Granville St"],
        number_first=True,
    ),
    "MX": _Country(
        "+52 55 5555 ",
        [
            ("Ciudad de México", "CDMX", "06600"),
            ("Guadalajara", "JAL", "44100"),
            ("Monterrey", "NL", "64000"),
        ],
        ["Av. Reforma", "Calle Juárez", "Av. Hidalgo"],
    ),
    "BR": _Country(
        "+55 11 5555-",
        [
            ("São Paulo", "SP", "01310-100"),
            ("Rio de Janeiro", "RJ", "20040-002"),
            ("Curitiba", "PR", "80010-000"),
        ],
        ["Avenida Paulista", "Rua da Assembleia", "Rua XV de Novembro"],
    ),
    "GB": _Country(
        "+44 20 7946 ",
        [("London", "", "EC1A 1BB"), ("Manchester", "", "M1 1AE"), ("Leeds", "", "LS1 4AP")],
        ["High Street", "Station Road", "Church Lane"],
        number_first=True,
    ),
    "IE": _Country(
        "+353 1 555 ",
        [
            ("Dublin", "Co. Dublin", "D02 X285"),
            ("Cork", "Co. Cork", "T12 RW26"),
            ("Galway", "Co. Galway", "H91 E2K3"),
        ],
        ["Main Street", "O'Connell Street", "Shop Street"],
        number_first=True,
    ),
    "DE": _Country(
        "+49 30 5555",
        [
            ("Berlin", "BE", "10115"),
            ("München", "BY", "80331"),
            ("Hamburg", "HH", "20095"),
            ("Köln", "NW", "50667"),
        ],
        ["Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Gartenweg"],
    ),
    "FR": _Country(
        "+33 1 55 55 ",
        [
            ("Paris", "Île-de-France", "75001"),
            ("Lyon", "Auvergne-Rhône-Alpes", "69002"),
            ("Lille", "Hauts-de-France", "59000"),
        ],
        ["rue de la République", "avenue Victor Hugo", "rue Nationale"],
        number_first=True,
    ),
    "BE": _Country(
        "+32 2 555 ",
        [("Bruxelles", "", "1000"), ("Antwerpen", "", "2000"), ("Liège", "", "4000")],
        ["Rue Neuve", "Meir", "Rue Saint-Gilles"],
    ),
    "NL": _Country(
        "+31 20 555 ",
        [("Amsterdam", "NH", "1012 JS"), ("Rotterdam", "ZH", "3011 AD"), ("Utrecht", "UT", "3511 LX")],
        ["Kalverstraat", "Coolsingel", "Oudegracht"],
    ),
    "IT": _Country(
        "+39 02 5555 ",
        [("Milano", "MI", "20121"), ("Roma", "RM", "00184"), ("Torino", "TO", "10121")],
        ["Via Roma", "Via Garibaldi", "Corso Vittorio Emanuele"],
    ),
    "ES": _Country(
        "+34 91 555 ",
        [
            ("Madrid", "Madrid", "28013"),
            ("Barcelona", "Barcelona", "08002"),
            ("Valencia", "Valencia", "46002"),
        ],
        ["Calle Mayor", "Carrer de Balmes", "Calle de Colón"],
    ),
    "SE": _Country(
        "+46 8 555 ",
        [("Stockholm", "", "111 52"), ("Göteborg", "", "411 06"), ("Malmö", "", "211 22")],
        ["Drottninggatan", "Kungsgatan", "Storgatan"],
    ),
    "PL": _Country(
        "+48 22 555 ",
        [
            ("Warszawa", "mazowieckie", "00-001"),
            ("Kraków", "małopolskie", "31-001"),
            ("Gdańsk", "pomorskie", "80-001"),
        ],
        ["ul. Marszałkowska", "ul. Floriańska", "ul. Długa"],
    ),
    "TR": _Country(
        "+90 212 555 ",
        [("İstanbul", "İstanbul", "34000"), ("Ankara", "Ankara", "06000"), ("İzmir", "İzmir", "35000")],
        ["İstiklal Caddesi", "Atatürk Bulvarı", "Kıbrıs Şehitleri Caddesi"],
    ),
    "AE": _Country(
        "+971 4 555 ",
        [("Dubai", "Dubai", "00000"), ("Abu Dhabi", "Abu Dhabi", "00000"), ("Sharjah", "Sharjah", "00000")],
        ["Sheikh Zayed Road", "Al Wasl Road", "Corniche Road"],
        number_first=True,
    ),
    "SA": _Country(
        "+966 11 555 ",
        [
            ("Riyadh", "Riyadh", "11564"),
            ("Jeddah", "Makkah", "21577"),
            ("Dammam", "Eastern Province", "32241"),
        ],
        ["King Fahd Road", "Tahlia Street", "Prince Sultan Street"],
        number_first=True,
    ),
    "EG": _Country(
        "+20 2 555 ",
        [("Cairo", "Cairo", "11511"), ("Alexandria", "Alexandria", "21500"), ("Giza", "Giza", "12511")],
        ["Tahrir Street", "Corniche El Nil", "Pyramids Road"],
        number_first=True,
    ),
    "ZA": _Country(
        "+27 21 555 ",
        [
            ("Cape Town", "Western Cape", "8001"),
            ("Johannesburg", "Gauteng", "2001"),
            ("Durban", "KwaZulu-Natal", "4001"),
        ],
        ["Long Street", "Jan Smuts Avenue", "West Street"],
        number_first=True,
    ),
    "IN": _Country(
        "+91 22 5555 ",
        [
            ("Mumbai", "Maharashtra", "400001"),
            ("Bengaluru", "Karnataka", "560001"),
            ("New Delhi", "Delhi", "110001"),
        ],
        ["MG Road", "Linking Road", "Park Street"],
        number_first=True,
    ),
    "SG": _Country(
        "+65 6555 ",
        [("Singapore", "", "238859"), ("Singapore", "", "018956"), ("Singapore", "", "569933")],
        ["Orchard Road", "Marina Boulevard", "Ang Mo Kio Avenue 3"],
        number_first=True,
    ),
    "AU": _Country(
        "+61 2 5555 ",
        [("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000"), ("Brisbane", "QLD", "4000")],
        ["George Street", "Collins Street", "Queen Street"],
        number_first=True,
    ),
    "JP": _Country(
        "+81 3-5555-",
        [
            ("Chiyoda-ku", "Tokyo", "100-0005"),
            ("Osaka-shi", "Osaka", "530-0001"),
            ("Yokohama-shi", "Kanagawa", "220-0011"),
        ],
        ["Marunouchi 1-chome", "Umeda 3-chome", "Minatomirai 2-chome"],
        number_first=True,
    ),
}


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
    placed = sandbox_orders_create(
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
    sandbox_order_changes_notify(orders=placed, change_type=STATUS_CHANGE, reason="Order placed")
    return placed


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
    country_code = "GB" if marketplace.code == "UK" else marketplace.code
    country = _COUNTRIES.get(country_code, _COUNTRIES["US"])
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
            city, state, postal = rng.choice(country.cities)
            company = f"{last} Supplies LLC" if business else ""
            address = {
                "name": f"{first} {last}",
                "addressLine1": country.street_line(rng.randrange(1, 9999), rng.choice(country.streets)),
                "city": city,
                "stateOrRegion": state,
                "postalCode": postal,
                "countryCode": country_code,
                "phone": f"{country.phone}{rng.randrange(1000, 10000)}",
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
        order = sandbox_order_update(order=order, when=when)
        sandbox_order_changes_notify(
            orders=[order], change_type=BUYER_REQUESTED_CHANGE, reason="Buyer Requested Cancel"
        )
        return order
    order = sandbox_order_update(order=order, when=when, status=FulfillmentStatus.CANCELLED)
    sandbox_order_changes_notify(orders=[order], change_type=STATUS_CHANGE, reason="Order cancelled")
    return order


def sandbox_order_ship_outside(*, order: SandboxOrder, when: dt.datetime | None = None) -> SandboxOrder:
    """The seller ships every unit itself (in Seller Central, not through the product)."""
    SandboxOrderItem.objects.filter(order=order).update(quantity_shipped=F("quantity_ordered"))
    order = sandbox_order_update(order=order, when=when, status=FulfillmentStatus.SHIPPED)
    sandbox_order_changes_notify(orders=[order], change_type=STATUS_CHANGE, reason="Order shipped")
    return order


def sandbox_order_update(*, order: SandboxOrder, when: dt.datetime | None = None, **changes) -> SandboxOrder:
    """Change order fields (e.g. status, delivery_address) and move lastUpdatedTime."""
    for field, value in changes.items():
        setattr(order, field, value)
    order.last_updated_time = when or timezone.now()
    order.save(update_fields=[*changes.keys(), "last_updated_time"])
    return order

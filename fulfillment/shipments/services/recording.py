"""Packages the warehouse shipped: record one, replay it, correct it.

The WMS API, the admin's *Record shipment* and the shipments CSV import all
call these, so every rule (ship date, tracking number, lines) is the same on
every way in. A package is written whole, with its confirmation row, or not
at all.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from fulfillment.core.errors import ShipmentRejected
from fulfillment.orders import transitions
from fulfillment.orders.models import Order, OrderLine, Warehouse
from fulfillment.orders.selectors import wms_orders
from fulfillment.shipments.models import Shipment, ShipmentLine
from fulfillment.shipments.services.allocation import Item, SearchTooLarge, allocate_warehouse_units


@dataclass(frozen=True)
class ShipmentLineInput:
    """Exactly one of order_item_id (quantity in Amazon units) or warehouse_sku
    (quantity in warehouse units)."""

    quantity: int
    order_item_id: str = ""
    warehouse_sku: str = ""


@dataclass(frozen=True)
class ShipmentInput:
    order: str  # the product's order id or the Amazon order id
    package_id: str
    carrier: str
    tracking_number: str
    ship_date: dt.datetime | dt.date
    lines: list[ShipmentLineInput] = field(default_factory=list)
    service: str = ""


class ShipmentConflict(Exception):
    """A package id recorded before with other data (answered 409).

    `differences`: field -> {"stored": ..., "sent": ...}."""

    def __init__(self, message: str, differences: dict[str, dict]):
        super().__init__(message)
        self.differences = differences


class PackageNotFound(Exception):
    """No package with this id on this order (answered 404)."""


class PackageLocked(Exception):
    """The package is on Amazon, or may be: it can no longer be corrected here (answered 409)."""


# A WMS clock a little ahead is fine; a ship date tomorrow is a mistake.
SHIP_DATE_FUTURE_TOLERANCE = dt.timedelta(hours=1)

# Amazon's ConfirmShipment model leaves trackingNumber an unconstrained string;
# carriers' own numbers are ASCII letters and digits (UPS 18, FedEx 12-34, USPS
# 20-34, DHL 10-39, Royal Mail 13, Amazon Logistics 15). Spaces and hyphens
# are only how labels print them in groups ("1Z 999 AA1 ...", "1234-5678-9012"):
# they are removed, so Amazon's per-carrier checks and the buyer's tracking
# link get the bare number, and a replay typed with or without them is the same.
TRACKING_NUMBER_RE = re.compile(r"[A-Za-z0-9]{6,40}")
_TRACKING_SEPARATORS = re.compile(r"[ \-]")


def tracking_number_normalize(value: str) -> str:
    return _TRACKING_SEPARATORS.sub("", value.strip())


def tracking_number_problem(value: str) -> str:
    """Why a tracking number is refused, or "" (checked after normalising)."""
    number = tracking_number_normalize(value)
    if not number:
        return "This field is required."
    if not TRACKING_NUMBER_RE.fullmatch(number):
        return (
            "A tracking number is 6 to 40 ASCII letters and digits (spaces and hyphens are "
            f"removed); got {len(number)} character(s)"
            + ("" if number.isascii() and number.isalnum() else " including others")
            + "."
        )
    return ""


def ship_date_resolve(*, value: dt.datetime | dt.date, warehouse: Warehouse, order: Order, now: dt.datetime):
    """An aware datetime for the ship date.

    A date alone is that day in the warehouse's time zone: noon, moved into
    the part of that day after the purchase and not after now, because Amazon
    refuses a ship date before the order date or in the future.
    """
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            return timezone.make_aware(value, zoneinfo.ZoneInfo(warehouse.time_zone))
        return value
    tz = zoneinfo.ZoneInfo(warehouse.time_zone)
    start = dt.datetime.combine(value, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=1) - dt.timedelta(seconds=1)
    when = start + dt.timedelta(hours=12)
    low, high = max(start, order.purchased_at), min(end, now)
    if low <= high:
        when = min(max(when, low), high)
    return when


def ship_date_checked(
    *, value: dt.datetime | dt.date, warehouse: Warehouse, order: Order, now: dt.datetime
) -> tuple[dt.datetime | None, str]:
    """(ship date in UTC, "") or (None, why it is refused).

    Amazon refuses a ship date before the purchase or in the future, and a
    date far out of range (year 1 with an offset) would be stored by
    PostgreSQL as a BC timestamp no reader can load afterwards.
    """
    try:
        when = ship_date_resolve(value=value, warehouse=warehouse, order=order, now=now).astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None, f"ship_date {value.isoformat()} is out of range."
    if when < order.purchased_at:
        return None, (
            f"ship_date {when:%Y-%m-%d %H:%M} UTC is before order {order.amazon_order_id} was placed "
            f"({order.purchased_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC); Amazon refuses it."
        )
    if when > now + SHIP_DATE_FUTURE_TOLERANCE:
        return None, (
            f"ship_date {when:%Y-%m-%d %H:%M} UTC is in the future (more than "
            f"{int(SHIP_DATE_FUTURE_TOLERANCE.total_seconds() // 60)} minutes ahead of our clock)."
        )
    return when, ""


def _find_order(*, warehouse: Warehouse, ref: str) -> Order | None:
    ref = str(ref).strip()
    orders = wms_orders(warehouse=warehouse).select_for_update(of=("self",))
    if ref.isdigit() and len(ref) < 19:
        found = list(orders.filter(pk=int(ref)))
    else:
        found = list(orders.filter(amazon_order_id=ref)[:2])
    return found[0] if len(found) == 1 else None


def _find_order_with_lines(*, warehouse: Warehouse, ref: str) -> tuple[Order | None, list[OrderLine]]:
    """The order (locked, as _find_order) and its lines by order item id, in one query:
    the lines with their order joined, the order's row locked (FOR UPDATE OF the order).
    An order without lines is found by _find_order."""
    ref = str(ref).strip()
    orders = wms_orders(warehouse=warehouse)
    if ref.isdigit() and len(ref) < 19:
        orders = orders.filter(pk=int(ref))
    else:
        orders = orders.filter(amazon_order_id=ref)
    lines = list(
        OrderLine.objects.filter(order__in=orders.order_by().values("pk")[:2])
        .select_related("order")
        .select_for_update(of=("order",))
        .order_by("order_id", "order_item_id")
    )
    if not lines:
        return _find_order(warehouse=warehouse, ref=ref), []
    if len({line.order_id for line in lines}) > 1:
        return None, []  # the same Amazon order id in two stores of this warehouse: ambiguous
    order = lines[0].order
    for line in lines:
        line.order = order  # one instance: what the moves set on it, every line sees
    return order, lines


def _left(line: OrderLine) -> int:
    return max(line.quantity_ordered - line.quantity_shipped - line.quantity_cancelled, 0)


def _kit_text(line: OrderLine) -> str:
    return " + ".join(f"{c['warehouse_sku']}×{c['units']}" for c in line.components)


def _parts(line: OrderLine) -> dict[str, int]:
    parts: dict[str, int] = defaultdict(int)
    for c in line.components or []:
        parts[c["warehouse_sku"]] += int(c["units"])
    return dict(parts)


def _allocate(
    order_lines: list[OrderLine], lines: list[ShipmentLineInput], *, left: dict[int, int] | None = None
) -> tuple[dict[int, int], dict]:
    """Amazon units per order line pk, and errors. Lines by warehouse SKU are
    turned into whole Amazon units of the items they make up, whatever the
    order of the items (see .allocation). `left`: units left per line pk (by
    default what the order lines say)."""
    errors: dict[str, list[str]] = defaultdict(list)
    by_item = {line.order_item_id: line for line in order_lines}
    left = dict(left) if left is not None else {line.pk: _left(line) for line in order_lines}
    units: dict[int, int] = defaultdict(int)
    sku_units: dict[str, int] = defaultdict(int)
    sku_first_index: dict[str, int] = {}

    for i, line in enumerate(lines):
        if line.order_item_id:
            order_line = by_item.get(line.order_item_id)
            if order_line is None:
                errors[f"lines.{i}"].append(f"order item {line.order_item_id} is not in this order")
                continue
            if line.quantity > left[order_line.pk]:
                errors[f"lines.{i}"].append(
                    f"quantity {line.quantity} of order item {line.order_item_id} is more than the "
                    f"{left[order_line.pk]} left to ship"
                )
                continue
            left[order_line.pk] -= line.quantity
            units[order_line.pk] += line.quantity
        else:
            sku_units[line.warehouse_sku] += line.quantity
            sku_first_index.setdefault(line.warehouse_sku, i)
    if not sku_units or errors:
        return dict(units), dict(errors)

    items = [Item(key=ol.pk, parts=_parts(ol), left=left[ol.pk]) for ol in order_lines]
    try:
        found = allocate_warehouse_units(items=items, quantities=sku_units)
    except SearchTooLarge:
        first = min(sku_first_index.values())
        errors[f"lines.{first}"].append(
            "these warehouse SKUs fit this order's items in too many ways to work out: "
            "send the lines by order_item_id"
        )
        return dict(units), dict(errors)
    if found is not None:
        for pk, count in found.items():
            units[pk] += count
        return dict(units), dict(errors)

    # No choice of whole units explains the package: say what is wrong with each SKU.
    for sku, quantity in sku_units.items():
        key = f"lines.{sku_first_index[sku]}"
        holders = [ol for ol in order_lines if sku in _parts(ol)]
        can_take = sum(left[ol.pk] * _parts(ol)[sku] for ol in holders)
        if not holders:
            errors[key].append(f"warehouse SKU {sku} is not in this order")
        elif quantity > can_take:
            errors[key].append(
                f"{quantity} unit(s) of warehouse SKU {sku} are more than the {can_take} left to ship"
            )
    if not errors:
        first = min(sku_first_index.values())
        kits = "; ".join(
            f"order item {ol.order_item_id} = {_kit_text(ol)} ({left[ol.pk]} left)"
            for ol in order_lines
            if set(_parts(ol)) & set(sku_units)
        )
        errors[f"lines.{first}"].append(
            f"these warehouse SKUs do not make whole Amazon units of this order's items ({kits}): "
            "ship every component of a kit in the same package"
        )
    return dict(units), dict(errors)


def _field_errors(data: ShipmentInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = defaultdict(list)
    for name in ("package_id", "carrier"):
        value = getattr(data, name)
        if not value or not value.strip():
            errors[name].append("This field is required.")
        elif len(value) > 100:
            errors[name].append("Ensure this field has no more than 100 characters.")
    problem = tracking_number_problem(data.tracking_number or "")
    if problem:
        errors["tracking_number"].append(problem)
    if len(data.service) > 100:
        errors["service"].append("Ensure this field has no more than 100 characters.")
    for i, line in enumerate(data.lines):
        if bool(line.order_item_id) == bool(line.warehouse_sku):
            errors[f"lines.{i}"].append("give exactly one of order_item_id or warehouse_sku")
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 1:
            errors[f"lines.{i}"].append("quantity must be a whole number of 1 or more")
    if not data.lines:
        errors["lines"].append("a package has at least one line")
    return errors


def _stored_lines(shipment: Shipment) -> dict[str, int]:
    return {
        line.order_line.order_item_id: line.quantity
        for line in shipment.lines.select_related("order_line").order_by("order_line__order_item_id")
    }


def _differences(
    *, shipment: Shipment, data: ShipmentInput, ship_date: dt.datetime, warehouse: Warehouse, order_lines
) -> dict[str, dict]:
    """What `data` says differently from the stored package (empty: an identical replay)."""
    diff: dict[str, dict] = {}
    for name in ("carrier", "service"):
        stored, sent = getattr(shipment, name).strip(), getattr(data, name).strip()
        if stored != sent:
            diff[name] = {"stored": stored, "sent": sent}
    stored_tracking = tracking_number_normalize(shipment.tracking_number)
    if stored_tracking != tracking_number_normalize(data.tracking_number):
        diff["tracking_number"] = {"stored": stored_tracking, "sent": data.tracking_number.strip()}
    if isinstance(data.ship_date, dt.datetime):
        same_date = ship_date == shipment.ship_date
    else:
        # A date alone was placed in that day when first recorded: the same day is the same date.
        tz = zoneinfo.ZoneInfo(warehouse.time_zone)
        same_date = shipment.ship_date.astimezone(tz).date() == data.ship_date
    if not same_date:
        diff["ship_date"] = {"stored": shipment.ship_date.isoformat(), "sent": data.ship_date.isoformat()}
    stored_lines = _stored_lines(shipment)
    # The package's own units count as still to ship when its lines are read again.
    left = {ol.pk: _left(ol) for ol in order_lines}
    for line in shipment.lines.all():
        left[line.order_line_id] = left.get(line.order_line_id, 0) + line.quantity
    units, errors = _allocate(order_lines, data.lines, left=left)
    item_of = {ol.pk: ol.order_item_id for ol in order_lines}
    sent_lines = {item_of[pk]: qty for pk, qty in sorted(units.items(), key=lambda u: item_of[u[0]])}
    if errors or sent_lines != stored_lines:
        as_list = lambda lines: [{"order_item_id": k, "quantity": v} for k, v in lines.items()]  # noqa: E731
        sent = (
            [{k: v for k, v in vars(line).items() if v} for line in data.lines]
            if errors
            else as_list(sent_lines)
        )
        diff["lines"] = {"stored": as_list(stored_lines), "sent": sent}
    return diff


def _ships_in_full(order_lines: list[OrderLine], shipped: dict[int, int]) -> bool:
    """True when nothing is left of any line once `shipped` (units per line pk) is counted."""
    return all(_left(ol) - shipped.get(ol.pk, 0) <= 0 for ol in order_lines)


def _shipped_add(units: dict[int, int]) -> None:
    """Add units (per order line pk; negative takes back) to the lines' shipped
    quantities in one UPDATE, whatever the number of lines."""
    units = {pk: n for pk, n in units.items() if n}
    if not units:
        return
    added = Case(*(When(pk=pk, then=Value(n)) for pk, n in units.items()), output_field=IntegerField())
    OrderLine.objects.filter(pk__in=units).update(quantity_shipped=F("quantity_shipped") + added)


def _replay(
    *, order: Order, data: ShipmentInput, ship_date: dt.datetime, warehouse: Warehouse, lines: list[OrderLine]
) -> Shipment | None:
    """The package recorded before under this id, if the same (a replay); None if there is
    none; ShipmentConflict naming each difference if it was recorded with other data."""
    existing = Shipment.objects.filter(order=order, package_id=data.package_id).first()
    if existing is None:
        return None
    diff = _differences(
        shipment=existing, data=data, ship_date=ship_date, warehouse=warehouse, order_lines=lines
    )
    if diff:
        raise ShipmentConflict(
            f"Package {data.package_id} of order {order.amazon_order_id} was recorded before with "
            f"other {', '.join(diff)}: nothing changed. To correct a package Amazon has not "
            "accepted yet, send it again with PUT.",
            diff,
        )
    return existing


def _shipment_insert(
    *, order: Order, data: ShipmentInput, ship_date: dt.datetime, source: str, now: dt.datetime
) -> Shipment | None:
    """INSERT the package with the order's next package reference (max + 1, read by the
    statement itself: under the order's lock, after any package committed meanwhile);
    None, writing nothing, when the order has this package id already."""
    shipment = Shipment(
        order=order,
        package_id=data.package_id,
        carrier=data.carrier.strip(),
        service=data.service.strip(),
        tracking_number=tracking_number_normalize(data.tracking_number),
        ship_date=ship_date,
        source=source,
        created_at=now,
    )
    meta, qn = Shipment._meta, connection.ops.quote_name
    given = (
        "order",
        "package_id",
        "carrier",
        "service",
        "tracking_number",
        "ship_date",
        "source",
        "created_at",
    )
    columns = [meta.get_field(name).column for name in given]
    values = [
        meta.get_field(name).get_db_prep_save(getattr(shipment, meta.get_field(name).attname), connection)
        for name in given
    ]
    table, order_col, ref_col = qn(meta.db_table), qn("order_id"), qn("package_reference")
    sql = (
        f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}, {ref_col}) "  # noqa: S608
        f"SELECT {', '.join(['%s'] * len(values))}, COALESCE(MAX({ref_col}), 0) + 1 "
        f"FROM {table} WHERE {order_col} = %s "
        f"ON CONFLICT ({order_col}, {qn('package_id')}) DO NOTHING RETURNING {qn('id')}, {ref_col}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, order.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    shipment.pk, shipment.package_reference = row
    shipment._state.adding, shipment._state.db = False, connection.alias
    return shipment


def shipment_record(
    *, warehouse: Warehouse, data: ShipmentInput, source: str, savepoint: bool = True
) -> tuple[Shipment, bool]:
    """Record one package, all or nothing. (shipment, created).

    `savepoint=False`: the caller's transaction is this package's alone and it lets
    an error roll all of it back (the WMS API's view): no savepoint pair of its own.

    A replayed package id with the same data returns the shipment already
    recorded and changes nothing; with other data it raises ShipmentConflict
    naming each difference (correct a package with `shipment_correct`).

    The order row is locked for the whole transaction: two packages of one
    order arriving at once are counted one after the other, and the package
    reference (max + 1) cannot be taken twice.
    """
    errors = _field_errors(data)
    with transaction.atomic(savepoint=savepoint):
        order, order_lines = _find_order_with_lines(warehouse=warehouse, ref=data.order)
        if order is None:
            errors["order"].append(f"unknown order {data.order!r}")
            raise ShipmentRejected(dict(errors))
        now = timezone.now()
        ship_date, problem = ship_date_checked(
            value=data.ship_date, warehouse=warehouse, order=order, now=now
        )
        if problem:
            errors["ship_date"].append(problem)
        if errors:
            raise ShipmentRejected(dict(errors))

        # A new package is written first, its reference taken by the INSERT itself; the
        # order's packages are read only when it is not new after all (a replay, or one the
        # order can no longer take), to answer it the way a replay is answered.
        def replayed() -> Shipment | None:
            return _replay(
                order=order, data=data, ship_date=ship_date, warehouse=warehouse, lines=order_lines
            )

        if order.status == Order.Status.CANCELLED:
            errors["order"].append(f"order {order.amazon_order_id} is cancelled: it must not ship")
        elif order.status == Order.Status.SHIPPED:
            errors["order"].append(f"order {order.amazon_order_id} is already shipped in full")
        elif order.status not in Order.FROZEN_STATUSES:
            errors["order"].append(f"order {order.amazon_order_id} is not released to the warehouse")
        if errors:
            if (existing := replayed()) is not None:
                return existing, False
            raise ShipmentRejected(dict(errors))

        units, line_errors = _allocate(order_lines, data.lines)
        if line_errors:
            if (existing := replayed()) is not None:
                return existing, False
            raise ShipmentRejected(line_errors)

        shipment = _shipment_insert(order=order, data=data, ship_date=ship_date, source=source, now=now)
        if shipment is None:  # this package id is recorded already
            return replayed(), False
        by_pk = {ol.pk: ol for ol in order_lines}
        lines = ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, order_line=by_pk[pk], quantity=qty)
            for pk, qty in sorted(units.items())
        )
        # The answer is built from these rows: nothing to read back (as prefetch_related leaves them).
        cached = shipment.lines.all()
        cached._result_cache, cached._prefetch_done = lines, True
        shipment._prefetched_objects_cache = {"lines": cached}
        # Queued in this transaction; its send task goes once the shipment commits.
        from fulfillment.shipments.services.confirmations import confirmation_enqueue

        confirmation_enqueue(shipment=shipment, new=True)
        _shipped_add(units)
        if _ships_in_full(order_lines, units):
            transitions.order_ship(order, now=now)
        else:
            transitions.order_ship_partially(order)
    return shipment, True


def shipment_correct(*, warehouse: Warehouse, data: ShipmentInput, source: str) -> tuple[Shipment, bool]:
    """Replace a recorded package (same order and package id) with `data`, all or
    nothing, while Amazon has not accepted it. (shipment, changed).

    Its lines are taken back from the order and allocated again, and its
    confirmation starts over (pending, no attempts). Raises PackageNotFound,
    PackageLocked (accepted or resolved, or possibly on Amazon already: a
    request in flight or whose answer was lost), ShipmentRejected.
    """
    from fulfillment.shipments.models import ShipmentConfirmation
    from fulfillment.shipments.services.confirmations import confirmation_restart

    errors = _field_errors(data)
    with transaction.atomic():
        order = _find_order(warehouse=warehouse, ref=data.order)
        if order is None:
            errors["order"].append(f"unknown order {data.order!r}")
        if errors:
            raise ShipmentRejected(dict(errors))
        shipment = Shipment.objects.filter(order=order, package_id=data.package_id).first()
        if shipment is None:
            raise PackageNotFound(
                f"Order {order.amazon_order_id} has no package {data.package_id!r}: record it with POST."
            )
        confirmation = ShipmentConfirmation.objects.select_for_update().filter(shipment=shipment).first()
        State = ShipmentConfirmation.State
        if confirmation is not None:
            if confirmation.state in (State.ACCEPTED, State.RESOLVED):
                when = confirmation.accepted_at or confirmation.updated_at
                raise PackageLocked(
                    f"Amazon already accepted package {data.package_id} ({when:%Y-%m-%d %H:%M} UTC): it "
                    "cannot be changed here any more; correct it in Seller Central."
                    if confirmation.state == State.ACCEPTED
                    else f"Package {data.package_id} was settled by hand in Seller Central: it cannot be "
                    "changed here any more."
                )
            if confirmation.state == State.SENDING or confirmation.outcome_unknown:
                raise PackageLocked(
                    f"Package {data.package_id} is being sent to Amazon, or its last attempt may have "
                    "reached Amazon: try again in a few minutes."
                )
        now = timezone.now()
        ship_date, problem = ship_date_checked(
            value=data.ship_date, warehouse=warehouse, order=order, now=now
        )
        if problem:
            raise ShipmentRejected({"ship_date": [problem]})
        order_lines = list(order.lines.order_by("order_item_id"))
        if not _differences(
            shipment=shipment, data=data, ship_date=ship_date, warehouse=warehouse, order_lines=order_lines
        ):
            return shipment, False
        if order.status == Order.Status.CANCELLED:
            raise ShipmentRejected(
                {"order": [f"order {order.amazon_order_id} is cancelled: it must not ship"]}
            )

        old = {line.order_line_id: line.quantity for line in shipment.lines.all()}
        left = {ol.pk: _left(ol) + old.get(ol.pk, 0) for ol in order_lines}
        units, line_errors = _allocate(order_lines, data.lines, left=left)
        if line_errors:
            raise ShipmentRejected(line_errors)

        shipment.carrier = data.carrier.strip()
        shipment.service = data.service.strip()
        shipment.tracking_number = tracking_number_normalize(data.tracking_number)
        shipment.ship_date = ship_date
        shipment.source = source
        shipment.save(update_fields=["carrier", "service", "tracking_number", "ship_date", "source"])
        shipment.lines.all().delete()
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, order_line_id=pk, quantity=qty) for pk, qty in units.items()
        )
        delta = {pk: units.get(pk, 0) - old.get(pk, 0) for pk in {*units, *old}}
        _shipped_add(delta)
        transitions.order_correct_shipment(order, complete=_ships_in_full(order_lines, delta), now=now)
        confirmation_restart(shipment=shipment, now=now)
    return shipment, True

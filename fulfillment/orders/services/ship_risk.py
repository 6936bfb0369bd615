"""Ship-risk: is an open order *on track*, *at risk* or *late* against its ship-by?

One rule for the orders list, the dashboard and the alert, counting the
warehouse's shipping calendar (its carrier cut-off time, the weekdays it
ships, its holidays):

- late: the ship-by has passed;
- at risk: at most one cut-off is left before the ship-by (it must go out
  with the next pickup, or none is left at all);
- on track: two or more cut-offs are left.

Orders without a ship-by have no risk. `ship_risk` is pure; `ship_risk_q`
turns the same rule into a query filter, per warehouse, so a list or a count
never decides an order differently from the page that shows it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import models
from django.db.models import Q

from fulfillment.orders.models import Holiday, Order, Warehouse

# How far ahead a calendar is read for cut-offs (a year and its holidays).
_HORIZON_DAYS = 400


class ShipRisk(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    LATE = "late", "Late"


@dataclass(frozen=True)
class ShippingCalendar:
    time_zone: str
    cutoff: dt.time
    working_days: frozenset[int]  # ISO weekdays
    holidays: frozenset[dt.date] = frozenset()

    def cutoffs_from(self, now: dt.datetime, count: int) -> list[dt.datetime]:
        """The next `count` cut-off moments after `now` (fewer if the calendar has no more)."""
        zone = zoneinfo.ZoneInfo(self.time_zone)
        day = now.astimezone(zone).date()
        found: list[dt.datetime] = []
        for _ in range(_HORIZON_DAYS):
            if day.isoweekday() in self.working_days and day not in self.holidays:
                moment = dt.datetime.combine(day, self.cutoff, tzinfo=zone)
                if moment > now:
                    found.append(moment)
                    if len(found) == count:
                        break
            day += dt.timedelta(days=1)
        return found

    def at_risk_before(self, now: dt.datetime) -> dt.datetime | None:
        """A ship-by before this moment is at risk (None: no second cut-off, any future ship-by is)."""
        cutoffs = self.cutoffs_from(now, 2)
        return cutoffs[1] if len(cutoffs) == 2 else None

    def today(self, now: dt.datetime) -> dt.date:
        return now.astimezone(zoneinfo.ZoneInfo(self.time_zone)).date()


def ship_risk(
    *, ship_by: dt.datetime | None, now: dt.datetime, calendar: ShippingCalendar
) -> ShipRisk | None:
    if ship_by is None:
        return None
    if ship_by <= now:
        return ShipRisk.LATE
    limit = calendar.at_risk_before(now)
    if limit is None or ship_by < limit:
        return ShipRisk.AT_RISK
    return ShipRisk.ON_TRACK


def order_ship_risk(
    order: Order, *, now: dt.datetime, calendars: dict[int, ShippingCalendar]
) -> tuple[str, bool]:
    """(ship risk, due today in its warehouse's time zone) of an open order; ("", False)
    for a closed one or one without a ship-by. `order.store` must be loaded."""
    if order.status not in Order.OPEN_STATUSES or order.ship_by_latest is None:
        return "", False
    calendar = calendars.get(order.store.warehouse_id)
    if calendar is None:
        return "", False
    risk = ship_risk(ship_by=order.ship_by_latest, now=now, calendar=calendar)
    return risk or "", calendar.today(order.ship_by_latest) == calendar.today(now)


def calendar_of(warehouse: Warehouse, holidays: Iterable[dt.date] = ()) -> ShippingCalendar:
    return ShippingCalendar(
        time_zone=warehouse.time_zone,
        cutoff=warehouse.cutoff_time,
        working_days=frozenset(int(d) for d in warehouse.working_days),
        holidays=frozenset(holidays),
    )


def shipping_calendars(
    *, warehouses: Iterable[Warehouse] | None = None, now: dt.datetime
) -> dict[int, ShippingCalendar]:
    """Warehouse id -> its calendar. Given the warehouses (already read): one query for
    their holidays; without: two (every warehouse, then the holidays)."""
    warehouses = list(Warehouse.objects.all() if warehouses is None else warehouses)
    if not warehouses:
        return {}
    since = now.date() - dt.timedelta(days=1)
    holidays: dict[int, list[dt.date]] = {}
    for warehouse_id, day in Holiday.objects.filter(
        warehouse_id__in=[w.pk for w in warehouses], date__gte=since
    ).values_list("warehouse_id", "date"):
        holidays.setdefault(warehouse_id, []).append(day)
    return {w.pk: calendar_of(w, holidays.get(w.pk, ())) for w in warehouses}


def ship_risk_q(
    risk: str, *, now: dt.datetime, calendars: dict[int, ShippingCalendar], prefix: str = ""
) -> Q:
    """Open orders of `risk`, as a filter (prefix: the path to the order, e.g. "orders__")."""
    open_orders = Q(**{f"{prefix}status__in": Order.OPEN_STATUSES})
    ship_by = f"{prefix}ship_by_latest"
    if risk == ShipRisk.LATE:
        return open_orders & Q(**{f"{ship_by}__lte": now})
    per_warehouse = []
    for warehouse_id, calendar in calendars.items():
        limit = calendar.at_risk_before(now)
        here = Q(**{f"{prefix}store__warehouse_id": warehouse_id})
        if risk == ShipRisk.AT_RISK:
            window = Q(**{f"{ship_by}__gt": now})
            if limit is not None:
                window &= Q(**{f"{ship_by}__lt": limit})
            per_warehouse.append(here & window)
        elif risk == ShipRisk.ON_TRACK and limit is not None:
            per_warehouse.append(here & Q(**{f"{ship_by}__gte": limit}))
    if not per_warehouse:
        return open_orders & Q(pk__in=[])
    return open_orders & reduce(or_, per_warehouse)

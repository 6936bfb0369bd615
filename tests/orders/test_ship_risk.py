"""Ship-risk: on track, at risk or late against the ship-by, counting the warehouse's
cut-off time, shipping weekdays and holidays; one rule for the list, the
dashboard and the alert."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse

from fulfillment.orders.models import Holiday, Order
from fulfillment.orders.services.ship_risk import (
    ShippingCalendar,
    ShipRisk,
    ship_risk,
    ship_risk_q,
    shipping_calendars,
)
from tests.orders.factories import make_order

NY = zoneinfo.ZoneInfo("America/New_York")
WEEKDAYS = ShippingCalendar(
    time_zone="America/New_York", cutoff=dt.time(14), working_days=frozenset(range(1, 6))
)
# Wednesday 2026-11-25, 10:00 in New York; Thursday 26 is Thanksgiving.
WEDNESDAY_10 = dt.datetime(2026, 11, 25, 10, tzinfo=NY)
THANKSGIVING = WEEKDAYS.__class__(**{**WEEKDAYS.__dict__, "holidays": frozenset({dt.date(2026, 11, 26)})})


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=NY)


@pytest.mark.parametrize(
    ("calendar", "now", "ship_by", "expected"),
    [
        # Two cut-offs left (Wed 14:00, Thu 14:00) before Thu 23:59: on track.
        (WEEKDAYS, WEDNESDAY_10, at(26, 23, 59), ShipRisk.ON_TRACK),
        # Only today's cut-off is left before Wed 23:59: at risk.
        (WEEKDAYS, WEDNESDAY_10, at(25, 23, 59), ShipRisk.AT_RISK),
        # After today's cut-off, only Thursday's is left before Thu 23:59: at risk.
        (WEEKDAYS, at(25, 15), at(26, 23, 59), ShipRisk.AT_RISK),
        # Thanksgiving is no shipping day: Wed and Fri are the cut-offs before Fri 23:59.
        (THANKSGIVING, WEDNESDAY_10, at(27, 23, 59), ShipRisk.ON_TRACK),
        (THANKSGIVING, WEDNESDAY_10, at(26, 23, 59), ShipRisk.AT_RISK),
        # The weekend does not ship: after Friday's cut-off, Monday is the next one.
        (WEEKDAYS, at(27, 15), at(30, 23, 59), ShipRisk.AT_RISK),
        (WEEKDAYS, at(27, 15), dt.datetime(2026, 12, 1, 23, tzinfo=NY), ShipRisk.ON_TRACK),
        # Past the ship-by: late, whatever the calendar.
        (WEEKDAYS, WEDNESDAY_10, at(25, 9), ShipRisk.LATE),
        (WEEKDAYS, WEDNESDAY_10, None, None),
    ],
)
def test_the_rule(calendar, now, ship_by, expected):
    assert ship_risk(ship_by=ship_by, now=now, calendar=calendar) == expected


def test_a_calendar_without_shipping_days_puts_every_open_order_at_risk():
    never = ShippingCalendar(time_zone="UTC", cutoff=dt.time(14), working_days=frozenset())
    assert ship_risk(ship_by=at(30, 12), now=WEDNESDAY_10, calendar=never) == ShipRisk.AT_RISK


@pytest.mark.django_db
def test_the_filter_decides_like_the_rule(warehouse, store):
    # given: the store's warehouse ships Monday to Friday at 14:00 New York time
    warehouse.cutoff_time, warehouse.working_days = dt.time(14), "12345"
    warehouse.save()
    Holiday.objects.create(warehouse=warehouse, date=dt.date(2026, 11, 26), name="Thanksgiving")
    orders = {
        ship_by: make_order(
            store=store, status=Order.Status.RELEASED, ship_by_latest=ship_by, hold_reasons=[]
        )
        for ship_by in (at(25, 9), at(25, 23), at(26, 23), at(27, 23), dt.datetime(2026, 12, 2, tzinfo=NY))
    }
    make_order(store=store, status=Order.Status.SHIPPED, ship_by_latest=at(25, 9))  # closed: no risk
    calendars = shipping_calendars(now=WEDNESDAY_10)
    sizes = {}

    for risk in ShipRisk.values:
        # when
        found = set(
            Order.objects.filter(ship_risk_q(risk, now=WEDNESDAY_10, calendars=calendars)).values_list(
                "pk", flat=True
            )
        )
        # then: the filter and the pure rule agree on every open order
        expected = {
            o.pk
            for ship_by, o in orders.items()
            if ship_risk(ship_by=ship_by, now=WEDNESDAY_10, calendar=calendars[warehouse.pk]) == risk
        }
        assert found == expected, risk
        sizes[risk] = len(found)
    # on track: Friday (after the holiday) and next week; at risk: tonight and Thanksgiving
    assert sizes == {ShipRisk.ON_TRACK: 2, ShipRisk.AT_RISK: 2, ShipRisk.LATE: 1}


@pytest.mark.django_db
def test_the_orders_list_marks_late_and_due_today_rows_and_sorts_open_orders_by_ship_by(
    admin_client, store, django_assert_num_queries
):
    from django.utils import timezone

    now = timezone.now()
    late = make_order(store=store, ship_by_latest=now - dt.timedelta(hours=2))
    later = make_order(store=store, ship_by_latest=now + dt.timedelta(days=9))
    make_order(store=store, status=Order.Status.SHIPPED, ship_by_latest=now - dt.timedelta(days=3))
    url = reverse("admin:fulfillment_order_changelist")

    response = admin_client.get(url, {"status__exact": "open"})

    page = response.content.decode()
    assert [o.pk for o in response.context["cl"].result_list] == [late.pk, later.pk]
    assert page.count('class="ship-by ship-by-late"') == 1
    assert 'class="risk risk-late"' in page and 'class="risk risk-on_track"' in page
    assert 'class="sortable column-ship_by' in page  # the ship-by column sorts
    risky = admin_client.get(url, {"ship_risk": "late"}).context["cl"].result_list
    assert [o.pk for o in risky] == [late.pk]


ORDER_CHANGELIST_QUERIES = 7


@pytest.mark.django_db
def test_the_orders_list_costs_a_fixed_number_of_queries(admin_client, store, django_assert_num_queries):
    from django.utils import timezone

    for hours in range(-3, 12):
        make_order(store=store, ship_by_latest=timezone.now() + dt.timedelta(hours=hours))
    url = reverse("admin:fulfillment_order_changelist")
    admin_client.get(url)  # the session is warm

    # session, user, the store filter, the count, the warehouses and their
    # holidays (ship risk, once for the filter and every row), the page's rows
    for params in ({}, {"status__exact": "open", "ship_risk": "at_risk"}):
        with django_assert_num_queries(ORDER_CHANGELIST_QUERIES):
            assert admin_client.get(url, params).status_code == 200


def test_the_open_orders_index_covers_exactly_the_open_statuses():
    # The partial index lists the statuses literally (Meta cannot read the class's
    # OPEN_STATUSES); the planner only uses it for the same list the filter sends.
    (index,) = [i for i in Order._meta.indexes if i.name == "order_open_ship_by_idx"]
    assert index.condition.children == [("status__in", list(map(str, Order.OPEN_STATUSES)))]

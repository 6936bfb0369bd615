"""One unreadable order never stops the store.

Poison orders come from the sandbox (`SandboxOrder.poison`) through the real
client path: each is set aside on its own as an unreadable order with the
field at fault and the reason (never a value of the order), the rest of its
page is written and released, the watermark moves, the run counts it, the
dashboard shows it, an alert goes once, and *Retry* reads it again with getOrder.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from fulfillment.ops.alerts import alerts_check
from fulfillment.orders.models import Order, StoreSyncState, UnreadableOrder
from fulfillment.orders.services.download import orders_pull
from fulfillment.orders.services.release import NOTHING_TO_SHIP_REASON
from fulfillment.orders.tasks import unreadable_order_retry_task
from sandbox.models import PoisonKind, SandboxOrder
from sandbox.orders import sandbox_orders_create

pytestmark = pytest.mark.usefixtures("shipping_for_every_level")

# kind -> (field at fault, words of the reason)
POISONS = {
    PoisonKind.QUANTITY_NOT_INTEGER: ("orderItems[0].quantityOrdered", "is not an integer"),
    PoisonKind.QUANTITY_NEGATIVE: ("orderItems[0].quantityOrdered", "is negative"),
    PoisonKind.QUANTITY_TOO_LARGE: ("orderItems[0].quantityOrdered", "is too large to store"),
    PoisonKind.FULFILLMENT_MISSING: ("fulfillment", "is missing"),
    PoisonKind.ITEM_ID_MISSING: ("orderItems[0].orderItemId", "is missing"),
    PoisonKind.SKU_TOO_LONG: (
        "orderItems[0].product.sellerSku",
        "is longer than the 100 characters we store",
    ),
    PoisonKind.SERVICE_LEVEL_TOO_LONG: (
        "fulfillment.fulfillmentServiceLevel",
        "is longer than the 20 characters we store",
    ),
    PoisonKind.TIME_WITHOUT_ZONE: ("createdTime", "is a time without zone"),
}


def _orders_with_one_poisoned(
    seller, kind: str, *, count: int = 10
) -> tuple[list[SandboxOrder], SandboxOrder]:
    placed = sandbox_orders_create(seller=seller, count=count, seed=31, status="UNSHIPPED")
    poisoned = placed[3]
    SandboxOrder.objects.filter(pk=poisoned.pk).update(poison=kind)
    return placed, poisoned


def _buyer_values(order: SandboxOrder) -> list[str]:
    values = [v for v in order.delivery_address.values() if isinstance(v, str) and len(v) > 3]
    values += [i.gift_message for i in order.items.all() if i.gift_message]
    return values


@pytest.mark.parametrize("kind", list(POISONS))
def test_an_unreadable_order_is_set_aside_and_the_rest_of_its_page_goes_on(store, seller, kind):
    # given: ten orders on one page, one of them broken as `kind`
    _, poisoned = _orders_with_one_poisoned(seller, kind)

    # when: the job runs twice
    first = orders_pull(store=store)
    second = orders_pull(store=store)

    # then: the nine others are written and released, the window is done ...
    assert first.ok and second.ok, (first.error, second.error)
    assert first.counts["new"] == 9 and first.counts["released"] == 9 and first.counts["unreadable"] == 1
    assert not Order.objects.filter(amazon_order_id=poisoned.order_id).exists()
    assert Order.objects.filter(status=Order.Status.RELEASED).count() == 9
    assert StoreSyncState.objects.get(store=store).order_watermark is not None
    assert second.counts["new"] == 0
    # ... and the bad one is visible to a person, with the field and why, without buyer data
    row = UnreadableOrder.objects.get()
    field, reason = POISONS[kind]
    assert (row.store, row.amazon_order_id, row.field, row.reason) == (
        store,
        poisoned.order_id,
        field,
        reason,
    )
    assert row.is_open
    for value in _buyer_values(poisoned):
        assert value not in row.reason and value not in row.field


@pytest.mark.parametrize("kind", [PoisonKind.NO_ITEMS, PoisonKind.ZERO_QUANTITIES])
def test_an_order_with_nothing_to_ship_is_never_released(store, seller, kind):
    # given
    _, poisoned = _orders_with_one_poisoned(seller, kind)

    # when
    first = orders_pull(store=store)
    second = orders_pull(store=store)

    # then: held with the reason, the others released, nothing set aside
    assert first.ok and second.ok
    order = Order.objects.get(amazon_order_id=poisoned.order_id)
    assert order.status == Order.Status.HELD and NOTHING_TO_SHIP_REASON in order.hold_reasons
    assert first.counts["held"] == 1 and first.counts["released"] == 9
    assert not UnreadableOrder.objects.exists()


def test_retry_reads_the_order_again_once_amazon_has_fixed_it(
    store, seller, admin_client, django_capture_on_commit_callbacks
):
    # given: a quarantined order
    _, poisoned = _orders_with_one_poisoned(seller, PoisonKind.QUANTITY_NEGATIVE)
    orders_pull(store=store)
    row = UnreadableOrder.objects.get()

    # when: Retry while Amazon still sends it broken
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:fulfillment_unreadableorder_changelist"),
            {"action": "retry", "_selected_action": [row.pk]},
            follow=True,
        )
    queued = [q.task for q in OrmQ.objects.all()]
    still = unreadable_order_retry_task(row.pk)

    # then: queued by id only; still unreadable, still open
    assert "queued to be read again" in response.content.decode()
    assert len(queued) == 1 and queued[0]["args"] == (row.pk,)
    assert still == {"unreadable_order": row.pk, "resolved": False, "api_calls": 1}
    row.refresh_from_db()
    assert row.is_open and row.last_retry_at is not None

    # when: Amazon fixed it, Retry again (twice: the second finds it resolved)
    SandboxOrder.objects.filter(pk=poisoned.pk).update(poison="")
    fixed = unreadable_order_retry_task(row.pk)
    again = unreadable_order_retry_task(row.pk)

    # then: it went the normal way
    assert fixed["resolved"] is True and again == {"skipped": "unknown or already resolved"}
    order = Order.objects.get(amazon_order_id=poisoned.order_id)
    assert order.status == Order.Status.RELEASED and order.lines.count() == poisoned.items.count()
    row.refresh_from_db()
    assert not row.is_open


def test_a_later_download_that_reads_the_order_resolves_it(store, seller, time_passes):
    # given
    _, poisoned = _orders_with_one_poisoned(seller, PoisonKind.TIME_WITHOUT_ZONE)
    orders_pull(store=store)
    time_passes(30)

    # when: Amazon fixes the order (which updates it) and the next download runs
    SandboxOrder.objects.filter(pk=poisoned.pk).update(
        poison="", last_updated_time=timezone.now() - dt.timedelta(minutes=5)
    )
    run = orders_pull(store=store)

    # then
    assert run.ok and run.counts["new"] == 1 and run.counts["unreadable"] == 0
    assert not UnreadableOrder.objects.get().is_open


def test_an_order_the_database_refuses_is_set_aside_on_its_own(store, seller, monkeypatch):
    # given: the database refuses one order of the page (a constraint we did not foresee)
    from django.db import IntegrityError

    from fulfillment.orders.services import pages as order_pages

    placed = sandbox_orders_create(seller=seller, count=10, seed=32, status="UNSHIPPED")
    refused = placed[5].order_id
    real_write = order_pages._write

    def write(writes):
        if any(w.order.amazon_order_id == refused for w in writes):
            raise IntegrityError(
                'new row violates check constraint "x"\nDETAIL:  Failing row contains (secret).'
            )
        real_write(writes)

    monkeypatch.setattr(order_pages, "_write", write)

    # when
    first = orders_pull(store=store)
    second = orders_pull(store=store)

    # then: the nine others are written, counted as written; the refused one is set aside
    assert first.ok and second.ok
    assert first.counts["new"] == 9 and first.counts["released"] == 9 and first.counts["unreadable"] == 1
    assert Order.objects.count() == 9
    row = UnreadableOrder.objects.get()
    assert row.amazon_order_id == refused and "the database refused the order" in row.reason
    assert "secret" not in row.reason and "DETAIL" not in row.reason


def test_unreadable_orders_show_on_the_dashboard_and_alert_once(store, seller, admin_client, warehouse):
    # given
    warehouse.operations_email = "ops@example.com"
    warehouse.save()
    _, poisoned = _orders_with_one_poisoned(seller, PoisonKind.QUANTITY_NOT_INTEGER)
    orders_pull(store=store)

    # when
    from django.contrib.auth import get_user_model

    from fulfillment.ops.selectors import dashboard_for

    user = get_user_model().objects.get(username="admin")
    health = dashboard_for(user=user, now=timezone.now()).stores[0]
    listed = admin_client.get(health.unreadable.url)
    first, second = alerts_check(), alerts_check()

    # then
    assert health.unreadable.value == 1 and health.unreadable.alert
    assert [r.amazon_order_id for r in listed.context["cl"].result_list] == [poisoned.order_id]
    assert first.unreadable_orders == 1 and second.unreadable_orders == 0
    # (the sandbox's orders may also be at risk of their ship-by: that alert is another mail)
    (unreadable_mail,) = [m for m in mail.outbox if "could not be read" in m.subject]
    body = unreadable_mail.body
    assert poisoned.order_id in body and "orderItems[0].quantityOrdered is not an integer" in body
    for value in _buyer_values(poisoned):
        assert value not in body


def test_the_unreadable_orders_list_filters_by_state_and_field(store, seller, admin_client):
    # given: two set aside, one of them resolved since
    placed = sandbox_orders_create(seller=seller, count=4, seed=33, status="UNSHIPPED")
    SandboxOrder.objects.filter(pk=placed[0].pk).update(poison=PoisonKind.SKU_TOO_LONG)
    SandboxOrder.objects.filter(pk=placed[1].pk).update(poison=PoisonKind.QUANTITY_NEGATIVE)
    orders_pull(store=store)
    UnreadableOrder.objects.filter(amazon_order_id=placed[1].order_id).update(resolved_at=timezone.now())
    url = reverse("admin:fulfillment_unreadableorder_changelist")

    # when
    open_rows = admin_client.get(url, {"open": "yes"}).context["cl"].result_list
    by_field = admin_client.get(url, {"field": "quantityOrdered"}).context["cl"].result_list

    # then
    assert [r.amazon_order_id for r in open_rows] == [placed[0].order_id]
    assert [r.amazon_order_id for r in by_field] == [placed[1].order_id]

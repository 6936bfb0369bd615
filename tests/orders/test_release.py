"""Release or hold: every line mapped, a shipping method, an address; or reasons to fix."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connections.models import Marketplace
from fulfillment.inventory.levels import inventory_update
from fulfillment.orders.models import Order, Warehouse
from fulfillment.orders.services.download import orders_pull
from fulfillment.orders.services.release import orders_release_or_hold
from mappings.models import ShippingMethodMapping, SkuMapping
from sandbox.models import SandboxOrder, SandboxOrderItem
from sandbox.orders import sandbox_order_update, sandbox_orders_create


@pytest.fixture
def strict_store(store):
    """A store that holds unmapped SKUs instead of shipping them as warehouse SKUs."""
    store.unmapped_sku_is_warehouse_sku = False
    store.save()
    return store


@pytest.fixture
def one_order(seller):
    """One NEXT_DAY Prime order of a single item, SKU ABC-1, quantity 2."""
    (order,) = sandbox_orders_create(seller=seller, count=1, seed=1, status="UNSHIPPED")
    SandboxOrderItem.objects.filter(order=order).delete()
    SandboxOrderItem.objects.create(
        order=order, order_item_id="11111111111111", sku="ABC-1", asin="B000000001", title="Widget",
        quantity_ordered=2, unit_price="9.99",
    )  # fmt: skip
    return sandbox_order_update(
        order=order, when=order.last_updated_time, service_level="NEXT_DAY", programs=["PRIME"]
    )


def test_it_holds_an_order_with_each_reason(strict_store, one_order):
    # given: no mapping at all, and no address
    sandbox_order_update(order=one_order, when=one_order.last_updated_time, delivery_address={})

    # when
    run = orders_pull(store=strict_store)

    # then
    order = Order.objects.get()
    assert run.counts["held"] == 1 and run.counts["released"] == 0
    assert order.status == Order.Status.HELD
    assert order.hold_reasons == [
        "SKU ABC-1 not mapped",
        "no shipping method for NEXT_DAY + Prime",
        "address missing",
    ]
    assert order.carrier == "" and order.released_at is None


def test_a_prime_order_does_not_use_a_non_prime_shipping_method(strict_store, one_order):
    SkuMapping.objects.create(store=strict_store, amazon_sku="ABC-1", warehouse_sku="W-ABC", units=1)
    ShippingMethodMapping.objects.create(
        store=strict_store, service_level="NEXT_DAY", prime=False, carrier="UPS", ship_code="NDA"
    )

    orders_pull(store=strict_store)

    assert Order.objects.get().hold_reasons == ["no shipping method for NEXT_DAY + Prime"]


def test_fixing_the_mappings_and_rechecking_releases_the_order_with_its_kit(strict_store, one_order):
    # given
    orders_pull(store=strict_store)
    order = Order.objects.get()
    assert order.status == Order.Status.HELD

    # when: a kit of two warehouse SKUs and a Prime next-day method are mapped
    SkuMapping.objects.create(store=strict_store, amazon_sku="ABC-1", warehouse_sku="W-BASE", units=1)
    SkuMapping.objects.create(store=strict_store, amazon_sku="ABC-1", warehouse_sku="W-LID", units=2)
    ShippingMethodMapping.objects.create(
        store=strict_store,
        service_level="NEXT_DAY",
        prime=True,
        carrier="FedEx",
        ship_code="PRIORITY_OVERNIGHT",
    )
    counts = orders_release_or_hold(store=strict_store, orders=[order])
    again = orders_release_or_hold(store=strict_store, orders=[order])

    # then
    order.refresh_from_db()
    assert (counts.released, counts.held) == (1, 0)
    assert (again.released, again.held) == (0, 0)  # released orders are not decided again
    assert order.status == Order.Status.RELEASED and order.hold_reasons == []
    assert (order.carrier, order.ship_code) == ("FedEx", "PRIORITY_OVERNIGHT")
    assert order.released_at is not None
    assert order.lines.get().components == [
        {"warehouse_sku": "W-BASE", "units": 1},
        {"warehouse_sku": "W-LID", "units": 2},
    ]


def test_a_store_identifying_products_by_asin_maps_the_asin(strict_store, one_order):
    strict_store.product_code_field = "ASIN"
    strict_store.save()
    SkuMapping.objects.create(
        store=strict_store, amazon_sku="OTHER-SKU", asin="B000000001", warehouse_sku="W-1", units=1
    )
    ShippingMethodMapping.objects.create(
        marketplace=strict_store.marketplace,
        service_level="NEXT_DAY",
        prime=None,
        carrier="UPS",
        ship_code="NDA",
    )

    orders_pull(store=strict_store)

    order = Order.objects.get()
    assert order.status == Order.Status.RELEASED, order.hold_reasons
    line = order.lines.get()
    assert line.product_code == "B000000001"
    assert line.components == [{"warehouse_sku": "W-1", "units": 1}]


def test_the_recheck_holds_admin_action_releases_fixed_orders(admin_client, strict_store, one_order):
    # given
    orders_pull(store=strict_store)
    SkuMapping.objects.create(store=strict_store, amazon_sku="ABC-1", warehouse_sku="W-1", units=1)
    ShippingMethodMapping.objects.create(
        store=strict_store, service_level="NEXT_DAY", prime=None, carrier="UPS", ship_code="NDA"
    )
    order = Order.objects.get()

    # when
    response = admin_client.post(
        reverse("admin:fulfillment_order_changelist"),
        {"action": "recheck_holds", "_selected_action": [order.pk]},
        follow=True,
    )

    # then
    assert response.status_code == 200
    assert "1 order(s) released" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.RELEASED


def test_a_held_order_updated_by_amazon_is_decided_again(strict_store, one_order, time_passes):
    # given: held for its SKU
    orders_pull(store=strict_store)
    SkuMapping.objects.create(store=strict_store, amazon_sku="ABC-1", warehouse_sku="W-1", units=1)
    ShippingMethodMapping.objects.create(
        store=strict_store, service_level="NEXT_DAY", prime=None, carrier="UPS", ship_code="NDA"
    )
    time_passes(10)

    # when: Amazon updates it
    sandbox_order_update(order=SandboxOrder.objects.get(pk=one_order.pk), buyer={"buyerName": "x"})
    time_passes(10)
    run = orders_pull(store=strict_store)

    # then
    assert run.counts["updated"] == 1 and run.counts["released"] == 1
    assert Order.objects.get().status == Order.Status.RELEASED


def test_the_order_page_offers_no_save_buttons(admin_client):
    # Every field is read-only: a Save button would save nothing.
    from django.urls import reverse

    from tests.orders.factories import make_order

    order = make_order()

    response = admin_client.get(reverse("admin:fulfillment_order_change", args=[order.pk]))

    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert 'name="_continue"' not in response.content.decode()


# --- Defaults that must not release wrong orders ---------------------------------


def _next_day_default(marketplace, *, carrier="UPS", ship_code="NDA"):
    return ShippingMethodMapping.objects.create(
        marketplace=marketplace, service_level="NEXT_DAY", prime=None, carrier=carrier, ship_code=ship_code
    )


def test_an_unmapped_sku_ships_as_itself_only_when_the_warehouse_knows_it(store, one_order):
    # given: the store ships unmapped SKUs as warehouse SKUs (a new store's default)
    assert store.unmapped_sku_is_warehouse_sku
    _next_day_default(store.marketplace)

    # when: the warehouse has never named ABC-1
    orders_pull(store=store)

    # then
    order = Order.objects.get()
    assert order.status == Order.Status.HELD
    assert order.hold_reasons == ["SKU ABC-1 is unknown to the warehouse"]

    # when: its next inventory snapshot names it (even at 0) and a person re-checks
    inventory_update(warehouse=store.warehouse, items=[("ABC-1", 0)], complete=False)
    counts = orders_release_or_hold(store=store, orders=[order])

    # then
    order.refresh_from_db()
    assert (counts.released, order.status, order.hold_reasons) == (1, Order.Status.RELEASED, [])
    assert order.lines.get().components == [{"warehouse_sku": "ABC-1", "units": 1}]


def test_another_warehouses_sku_does_not_count(store, one_order):
    _next_day_default(store.marketplace)
    other = Warehouse.objects.create(code="OTHER", name="Other DC")
    inventory_update(warehouse=other, items=[("ABC-1", 5)], complete=False)

    orders_pull(store=store)

    assert Order.objects.get().hold_reasons == ["SKU ABC-1 is unknown to the warehouse"]


def test_a_store_never_borrows_another_marketplaces_default(store, one_order):
    # given: a default for Germany only; the store sells in the US
    SkuMapping.objects.create(store=store, amazon_sku="ABC-1", warehouse_sku="W-ABC", units=1)
    _next_day_default(Marketplace.objects.get(code="DE"), carrier="DPD", ship_code="DPD_EXPRESS_12")

    # when
    orders_pull(store=store)

    # then: held with a reason, not released as DPD
    order = Order.objects.get()
    assert (order.status, order.carrier) == (Order.Status.HELD, "")
    assert order.hold_reasons == ["no shipping method for NEXT_DAY + Prime"]

    # when: the store's own marketplace gets its default
    _next_day_default(store.marketplace, carrier="FedEx", ship_code="FEDEX_STANDARD_OVERNIGHT")
    orders_release_or_hold(store=store, orders=[order])

    # then
    order.refresh_from_db()
    assert (order.status, order.carrier) == (Order.Status.RELEASED, "FedEx")


def test_a_default_needs_a_marketplace_and_a_store_row_no_marketplace(store):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    neither = ShippingMethodMapping(service_level="STANDARD", carrier="UPS", ship_code="G")
    both = ShippingMethodMapping(
        store=store, marketplace=store.marketplace, service_level="STANDARD", carrier="UPS", ship_code="G"
    )
    for mapping in (neither, both):
        with pytest.raises(ValidationError):
            mapping.full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            mapping.save()

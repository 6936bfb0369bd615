"""The exceptions queue: a held order's page offers Re-check and the mapping that
fixes each reason, prefilled; saving or importing a mapping re-checks the held
orders it can release, in a task, and says how many."""

from __future__ import annotations

import datetime as dt
import io
import json
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django_q.models import OrmQ

from fulfillment.jobs.models import SyncRun
from fulfillment.orders.models import Order, OrderLine
from fulfillment.orders.services.release import order_hold_fixes
from fulfillment.orders.tasks import HOLD_RECHECK_TASK, held_orders_recheck_task, order_resync_task
from mappings.models import ImportJob, ShippingMethodMapping, SkuMapping
from tests.orders.factories import ADDRESS

pytestmark = pytest.mark.django_db


def _held(store, *, skus=("ABC-1",), level="NEXT_DAY", prime=True) -> Order:
    order = Order.objects.create(
        store=store,
        amazon_order_id=f"111-0000000-{len(skus)}{Order.objects.count():06d}",
        amazon_status="UNSHIPPED",
        status=Order.Status.HELD,
        service_level=level,
        is_prime=prime,
        purchased_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        amazon_updated_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        recipient=json.dumps(ADDRESS),
        hold_reasons=[*(f"SKU {s} not mapped" for s in skus), f"no shipping method for {level} + Prime"],
    )
    for i, sku in enumerate(skus):
        OrderLine.objects.create(
            order=order, order_item_id=f"ITEM{i}", amazon_sku=sku, product_code=sku, quantity_ordered=1
        )
    return order


@pytest.fixture
def strict(store):
    store.unmapped_sku_is_warehouse_sku = False
    store.save()
    return store


def test_each_reason_names_the_mapping_that_fixes_it_prefilled(strict):
    order = _held(strict)
    order.hold_reasons.append("address missing")

    fixes = order_hold_fixes(order=order, by_asin=False)

    assert [(f.mapping, dict(f.initial)) for f in fixes] == [
        ("sku", {"store": str(strict.pk), "amazon_sku": "ABC-1"}),
        ("shipping_method", {"store": str(strict.pk), "service_level": "NEXT_DAY", "prime": "true"}),
        (None, {}),
    ]
    assert dict(order_hold_fixes(order=order, by_asin=True)[0].initial)["asin"] == "ABC-1"


def test_the_held_orders_page_links_to_the_prefilled_add_form(admin_client, strict):
    order = _held(strict)

    page = admin_client.get(reverse("admin:fulfillment_order_change", args=[order.pk])).content.decode()

    assert page.count('class="button hold-recheck"') == 2
    assert reverse("admin:fulfillment_order_recheck", args=[order.pk]) in page
    start = page.index('class="hold-fix" href="') + len('class="hold-fix" href="')
    href = page[start : page.index('"', start)].replace("&amp;", "&")
    assert parse_qs(urlparse(href).query) == {"store": [str(strict.pk)], "amazon_sku": ["ABC-1"]}
    form = admin_client.get(href).content.decode()
    assert 'name="amazon_sku" value="ABC-1"' in form
    assert f'<option value="{strict.pk}" selected>' in form


def test_recheck_recomputes_the_reasons_then_releases(admin_client, strict):
    # given
    order = _held(strict)
    url = reverse("admin:fulfillment_order_recheck", args=[order.pk])
    SkuMapping.objects.create(store=strict, amazon_sku="ABC-1", warehouse_sku="W-1", units=1)

    # when: one of two reasons fixed
    response = admin_client.post(url, follow=True)

    # then: the fixed reason is gone, the other stays
    order.refresh_from_db()
    assert order.status == Order.Status.HELD
    assert order.hold_reasons == ["no shipping method for NEXT_DAY + Prime"]
    assert "Still held" in response.content.decode()

    # when: the other is fixed too
    ShippingMethodMapping.objects.create(
        store=strict, service_level="NEXT_DAY", prime=True, carrier="UPS", ship_code="NDA"
    )
    admin_client.post(url)

    # then
    order.refresh_from_db()
    assert (order.status, order.hold_reasons, order.carrier) == (Order.Status.RELEASED, [], "UPS")
    assert admin_client.get(url).status_code == 405


def test_saving_a_mapping_rechecks_the_held_orders_in_a_task(
    admin_client, strict, django_capture_on_commit_callbacks
):
    # given: two orders held for the same SKU, and one of another store's
    ShippingMethodMapping.objects.create(
        store=strict, service_level="NEXT_DAY", prime=None, carrier="UPS", ship_code="NDA"
    )
    first, second = _held(strict), _held(strict)
    Order.objects.filter(pk__in=[first.pk, second.pk]).update(hold_reasons=["SKU ABC-1 not mapped"])

    # when: a person saves the mapping from the prefilled form
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:mappings_skumapping_add"),
            {"store": strict.pk, "amazon_sku": "ABC-1", "warehouse_sku": "W-1", "units": 1, "buffer": 0},
            follow=True,
        )

    # then: the count is said, one task per store is queued with the store id only
    assert "Re-checking 2 held order(s)" in response.content.decode()
    (queued,) = [q.task for q in OrmQ.objects.all()]
    assert (queued["func"], queued["args"]) == (HOLD_RECHECK_TASK, (strict.pk,))

    # when: the task runs (twice: at-least-once delivery)
    result = held_orders_recheck_task(strict.pk)
    again = held_orders_recheck_task(strict.pk)

    # then
    assert (result["rechecked"], result["released"], result["held"]) == (2, 2, 0)
    assert (again["rechecked"], again["released"]) == (0, 0)
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.RELEASED}
    run = SyncRun.objects.get(pk=result["sync_run"])
    assert (run.kind, run.store_id, run.ok, run.counts["released"]) == (
        SyncRun.Kind.HOLD_RECHECK,
        strict.pk,
        True,
        2,
    )


def test_a_marketplace_default_rechecks_the_stores_selling_there(
    admin_client, strict, django_capture_on_commit_callbacks
):
    SkuMapping.objects.create(store=strict, amazon_sku="ABC-1", warehouse_sku="W-1", units=1)
    order = _held(strict)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:mappings_shippingmethodmapping_add"),
            {
                "marketplace": strict.marketplace_id,
                "service_level": "NEXT_DAY",
                "prime": "true",
                "carrier": "FedEx",
                "ship_code": "FEDEX_STANDARD_OVERNIGHT",
            },
        )
    (queued,) = [q.task for q in OrmQ.objects.all()]
    held_orders_recheck_task(*queued["args"])

    order.refresh_from_db()
    assert (order.status, order.ship_code) == (Order.Status.RELEASED, "FEDEX_STANDARD_OVERNIGHT")


def test_importing_mappings_rechecks_the_held_orders(
    admin_client, strict, django_capture_on_commit_callbacks
):
    ShippingMethodMapping.objects.create(
        store=strict, service_level="NEXT_DAY", prime=None, carrier="UPS", ship_code="NDA"
    )
    order = _held(strict)
    upload = io.BytesIO(f"store,amazon_sku,warehouse_sku\n{strict.name},ABC-1,W-1\n".encode())
    upload.name = "skus.csv"
    url = reverse("admin:mappings_skumapping_import_csv")
    admin_client.post(url, {"file": upload})  # the preview writes nothing

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"confirm": ImportJob.objects.get().pk}, follow=True)

    assert "Re-checking 1 held order(s)" in response.content.decode()
    (queued,) = [q.task for q in OrmQ.objects.all()]
    held_orders_recheck_task(*queued["args"])
    order.refresh_from_db()
    assert order.status == Order.Status.RELEASED


def test_a_store_without_held_orders_queues_nothing(admin_client, strict, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:mappings_skumapping_add"),
            {"store": strict.pk, "amazon_sku": "X", "warehouse_sku": "W-X", "units": 1, "buffer": 0},
            follow=True,
        )
    assert not OrmQ.objects.exists()
    assert "Re-checking" not in response.content.decode()


# --- Resync a date range ------------------------------------------------------------


def test_resync_a_date_range_queues_the_reconciliation_of_those_days(
    admin_client, store, django_capture_on_commit_callbacks
):
    url = reverse("admin:connections_store_resync", args=[store.pk])
    action = admin_client.post(
        reverse("admin:connections_store_changelist"),
        {"action": "resync_date_range", "_selected_action": [store.pk]},
    )
    assert action.status_code == 302 and action["Location"] == url
    assert "first_day" in admin_client.get(url).content.decode()

    bad = admin_client.post(url, {"first_day": "2026-11-05", "last_day": "2026-11-01"})
    assert "comes after the last day" in bad.content.decode()
    assert not OrmQ.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(url, {"first_day": "2026-11-01", "last_day": "2026-11-05"}, follow=True)

    assert "queued" in done.content.decode()
    (queued,) = [q.task for q in OrmQ.objects.all()]
    assert queued["args"] == (store.pk, "2026-11-01", "2026-11-05")


def test_the_resync_imports_the_missing_orders_of_the_range_and_says_so_on_the_run(store, seller):
    from sandbox.models import SandboxOrder
    from sandbox.orders import sandbox_orders_create

    ShippingMethodMapping.objects.create(
        store=store, service_level="STANDARD", prime=None, carrier="UPS", ship_code="G"
    )
    placed = sandbox_orders_create(seller=seller, count=3, seed=5, status="UNSHIPPED")
    SandboxOrder.objects.filter(pk__in=[o.pk for o in placed]).update(
        created_time=dt.datetime(2026, 11, 2, 15, tzinfo=dt.UTC),
        last_updated_time=dt.datetime(2026, 11, 2, 15, tzinfo=dt.UTC),
    )

    result = order_resync_task(store.pk, "2026-11-01", "2026-11-03")
    again = order_resync_task(store.pk, "2026-11-01", "2026-11-03")

    run = SyncRun.objects.get(pk=result["sync_run"])
    assert run.ok, run.error
    assert (run.kind, run.counts["missing"]) == (SyncRun.Kind.RECONCILE, 3)
    assert "Resync of orders created 2026-11-01 to 2026-11-03" in run.notes
    assert Order.objects.filter(store=store).count() == 3
    assert again["missing"] == 0


def test_a_sku_the_warehouse_names_for_the_first_time_rechecks_its_held_orders(
    store, django_capture_on_commit_callbacks
):
    # given: a store shipping unmapped SKUs as themselves, an order held for a SKU
    # the warehouse never named, and a strict store of the same warehouse
    from fulfillment.inventory.levels import inventory_update
    from tests.factories import make_store

    ShippingMethodMapping.objects.create(
        marketplace=store.marketplace, service_level="NEXT_DAY", prime=None, carrier="UPS", ship_code="NDA"
    )
    order = _held(store)
    Order.objects.filter(pk=order.pk).update(hold_reasons=["SKU ABC-1 is unknown to the warehouse"])
    strict = make_store(warehouse=store.warehouse, unmapped_sku_is_warehouse_sku=False)
    _held(strict)

    # when: a snapshot changes a known SKU only, then names ABC-1
    inventory_update(warehouse=store.warehouse, items=[("OTHER", 1)], complete=False)
    with django_capture_on_commit_callbacks(execute=True):
        inventory_update(warehouse=store.warehouse, items=[("OTHER", 2)], complete=False)
    assert not OrmQ.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        inventory_update(warehouse=store.warehouse, items=[("ABC-1", 0)], complete=False)

    # then: only the store that ships known SKUs as themselves is re-checked
    (queued,) = [q.task for q in OrmQ.objects.all()]
    assert queued["args"] == (store.pk,)
    held_orders_recheck_task(store.pk)
    order.refresh_from_db()
    assert (order.status, order.lines.get().components) == (
        Order.Status.RELEASED,
        [{"warehouse_sku": "ABC-1", "units": 1}],
    )


def test_a_mapping_saved_while_a_recheck_runs_is_not_missed(strict, monkeypatch):
    # given: two held orders; the mapping that releases them is saved during the first pass
    from fulfillment.orders.services import release

    ShippingMethodMapping.objects.create(
        store=strict, service_level="NEXT_DAY", prime=None, carrier="UPS", ship_code="NDA"
    )
    orders = [_held(strict), _held(strict)]
    first_pass = release.HoldRecheckJob._pass

    def pass_then_a_person_saves(self, ctx):
        first_pass(self, ctx)
        if not SkuMapping.objects.exists():
            SkuMapping.objects.create(store=strict, amazon_sku="ABC-1", warehouse_sku="W-1", units=1)

    monkeypatch.setattr(release.HoldRecheckJob, "_pass", pass_then_a_person_saves)

    # when
    result = held_orders_recheck_task(strict.pk)

    # then: the job passed again and released them
    assert (result["released"], result["held"], result["passes"]) == (2, 0, 2)
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in orders])} == {Order.Status.RELEASED}

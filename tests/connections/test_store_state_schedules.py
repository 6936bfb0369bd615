"""Whatever connects or disconnects a store brings its job schedules in step at once:
the Store admin (finalize, test connection), the consent callback, `connect_store`
and the job runner. No signal does it; connections' services do not know the
jobs (they sit below them). Each path runs twice; the second changes nothing."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_q.models import Schedule

from connections.models import Store
from fulfillment.jobs.schedules import order_pull_schedule_name, schedules_sync
from sandbox.sellers import sandbox_seller_ensure
from tests.factories import make_store, make_warehouse


def _store_schedules(store) -> set[str]:
    return set(Schedule.objects.filter(name__contains=f":store:{store.pk}").values_list("name", flat=True))


@pytest.mark.django_db
def test_finalizing_a_merchant_authorization_in_the_admin_schedules_the_store_s_jobs(
    admin_client, sandbox_app
):
    # given: a store the merchant authorized, waiting for the warehouse
    store = make_store(authorization_status=Store.Authorization.AUTHORIZED_BY_MERCHANT)
    sandbox_seller_ensure(selling_partner_id=store.selling_partner_id, refresh_token=store.refresh_token)
    assert not _store_schedules(store)

    # when: twice (the second finds nothing waiting)
    for _ in range(2):
        admin_client.post(reverse("admin:connections_store_finalize", args=[store.pk]))

    # then
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.CONNECTED
    assert _store_schedules(store) == {
        f"order-pull:store:{store.pk}",
        f"order-reconcile:store:{store.pk}",
        f"shipment-confirm:store:{store.pk}",
        f"inventory-push:store:{store.pk}:0600",
        f"inventory-push:store:{store.pk}:1800",
    }


@pytest.mark.django_db
def test_connect_store_schedules_the_store_once(sandbox_app):
    warehouse = make_warehouse()
    sandbox_seller_ensure(
        selling_partner_id="A1CONNECTCMD", refresh_token="Atzr|connect", marketplace_codes=("US",)
    )

    for _ in range(2):
        call_command(
            "connect_store",
            name="Connected by command",
            marketplace="US",
            selling_partner_id="A1CONNECTCMD",
            refresh_token="Atzr|connect",
            warehouse=warehouse.code,
            stdout=open("/dev/null", "w"),  # noqa: SIM115
        )

    store = Store.objects.get(name="Connected by command")
    assert Schedule.objects.filter(name=order_pull_schedule_name(store.pk)).count() == 1
    # download, reconciliation, confirmation sweep, the inventory push at 06:00 and 18:00
    assert len(_store_schedules(store)) == 5


@pytest.mark.django_db
def test_a_connection_test_amazon_refuses_takes_the_store_s_schedules_away(admin_client, store, sandbox_app):
    # given: scheduled, but the sandbox knows no seller with the store's token (invalid_grant)
    schedules_sync(store=store)
    assert _store_schedules(store)

    # when
    for _ in range(2):
        admin_client.post(reverse("admin:connections_store_test_connection", args=[store.pk]))

    # then
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.NEEDS_REAUTHORIZATION
    assert not _store_schedules(store)
    assert schedules_sync(store=store) == {"created": 0, "updated": 0, "deleted": 0}

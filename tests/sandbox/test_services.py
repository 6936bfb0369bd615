"""The sandbox's service contract (sellers, LWA, orders) other engineers' tests rely on."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from sandbox.models import SandboxApplication, SandboxRefreshToken, SandboxSeller
from sandbox.orders import sandbox_order_cancel, sandbox_orders_create
from sandbox.rate_limits import rate_bucket_take
from sandbox.sellers import lwa_token_grant, sandbox_application_ensure, sandbox_seller_ensure


def test_ensuring_the_application_and_a_seller_twice_changes_nothing(db):
    for _ in range(2):
        sandbox_application_ensure()
        sandbox_seller_ensure(
            selling_partner_id="ATWICE", marketplace_codes=("US", "CA"), refresh_token="Atzr|t"
        )

    assert SandboxApplication.objects.count() == 1
    assert SandboxSeller.objects.get(selling_partner_id="ATWICE").marketplaces.count() == 2
    assert SandboxRefreshToken.objects.filter(token="Atzr|t").count() == 1
    assert sandbox_application_ensure().redirect_uri == "http://testserver/connections/oauth/callback/"


def test_a_registered_refresh_token_is_valid_for_the_product_credentials(sandbox_seller):
    body = lwa_token_grant(
        grant_type="refresh_token",
        client_id="amzn1.application-oa2-client.sandbox",
        client_secret="sandbox-client-secret",
        refresh_token="Atzr|acme-refresh-token",
    )

    assert body["access_token"].startswith("Atza|")


def test_cancelling_moves_last_updated_time(sandbox_seller):
    order = sandbox_orders_create(seller=sandbox_seller, count=1, seed=3, status="UNSHIPPED")[0]
    before = order.last_updated_time

    sandbox_order_cancel(order=order)

    order.refresh_from_db()
    assert order.status == "CANCELLED"
    assert order.last_updated_time > before


def test_created_orders_are_older_than_two_minutes_so_a_search_sees_them(sandbox_seller):
    orders = sandbox_orders_create(seller=sandbox_seller, count=50, seed=4)

    latest = max(o.last_updated_time for o in orders)
    assert (timezone.now() - latest).total_seconds() > 120


# Row locks between connections need real transactions.
@pytest.mark.django_db(transaction=True)
def test_processes_share_one_bucket():
    # given: getListingsItem has a burst of 10; the clock is held still (no refill)
    now = timezone.now()
    allowed = []

    def worker():
        try:
            for _ in range(5):
                allowed.append(rate_bucket_take(caller="ACONC", operation="getListingsItem", now=now))
        finally:
            connection.close()

    # when: four threads, each with its own database connection, take 5 each
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert allowed.count(True) == 10
    assert allowed.count(False) == 10

"""The demo's whole loop in a real browser, from the admin alone, on the data
`make demo` creates: create sandbox orders (button), pull, see a hold, add the
mapping, re-check, record a shipment, see it confirmed, cancel an order in the
sandbox admin, pull, see the cancellation in the WMS API's cancellations feed.

The live server is both the product and its Amazon (the sandbox), reached only
through the settings, as in `make demo`; queued tasks run as the task cluster
would run them.
"""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

import httpx
import pytest
from django.contrib.auth.models import User
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from fulfillment.orders.models import Order
from fulfillment.shipments.models import ShipmentConfirmation
from sandbox.demo import DEMO_PASSWORD, DEMO_UNMAPPED_SKU, DEMO_USERNAME, demo_data_ensure
from sandbox.inprocess import in_process_handle_request
from sandbox.models import SandboxOrder
from tests.e2e.helpers import admin_action, admin_login, run_queued_tasks, wait_for_text
from tests.e2e.login import enrol

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo(live_server, settings, monkeypatch):
    base = live_server.url
    settings.PUBLIC_BASE_URL = base
    settings.SP_API_ENDPOINT = f"{base}/sandbox"
    settings.LWA_TOKEN_URL = f"{base}/sandbox/auth/o2/token"
    settings.SELLER_CENTRAL_URL = f"{base}/sandbox"
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    # As demo_setup does: the store is connected (Amazon asked) inside the demo
    # data's transaction, which the live server cannot see yet, so the sandbox
    # answers that question in-process.
    with monkeypatch.context() as patch:
        patch.setattr(
            httpx.HTTPTransport,
            "handle_request",
            in_process_handle_request(hosts=(urlsplit(base).hostname, "testserver")),
        )
        data = demo_data_ensure()
    # The second factor on, as in production; the demo admin enrolled, as demo_setup does.
    settings.ADMIN_MFA_REQUIRED = True
    enrol(User.objects.get(username=data.username))
    return {"base": base, "store": data.connected_store, "wms_key": data.wms_key}


def _pull_orders_now(browser, base: str, store) -> None:
    admin_action(browser, f"{base}/admin/connections/store/", "pull_orders_now", [store.pk])
    wait_for_text(browser, "Order download queued")
    assert "order_pull_task" in run_queued_tasks()


def _wms_cancellations(base: str, key: str) -> list[dict]:
    request = urllib.request.Request(
        f"{base}/api/v1/cancellations", headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["results"]


def test_the_demo_loop_from_the_admin_alone(browser, demo):
    base, store = demo["base"], demo["store"]
    admin_login(browser, base, username=DEMO_USERNAME, password=DEMO_PASSWORD)

    # Buyers place 3 orders on the sandbox's Amazon: "Create N orders".
    backlog = set(SandboxOrder.objects.values_list("order_id", flat=True))
    browser.get(f"{base}/admin/sandbox/sandboxorder/")
    browser.find_element(By.ID, "sandbox-create-orders").click()
    wait_for_text(browser, "How many orders")
    count = browser.find_element(By.NAME, "count")
    count.clear()
    count.send_keys("3")
    browser.find_element(By.CSS_SELECTOR, "#create-orders-form input[type=submit]").click()
    wait_for_text(browser, "3 orders placed")
    placed = set(SandboxOrder.objects.values_list("order_id", flat=True)) - backlog
    assert len(placed) == 3

    # Pull orders now: the backlog and the 3 new orders arrive; some are held.
    _pull_orders_now(browser, base, store)
    assert placed <= set(Order.objects.filter(store=store).values_list("amazon_order_id", flat=True))
    held = Order.objects.filter(store=store, status=Order.Status.HELD)
    assert held.exists()
    browser.get(f"{base}/admin/fulfillment/order/?status__exact=held")
    wait_for_text(browser, f"SKU {DEMO_UNMAPPED_SKU} not mapped")

    # Add the missing SKU mapping, then Re-check holds on the held orders.
    browser.get(f"{base}/admin/mappings/skumapping/add/")
    Select(browser.find_element(By.NAME, "store")).select_by_visible_text(store.name)
    browser.find_element(By.NAME, "amazon_sku").send_keys(DEMO_UNMAPPED_SKU)
    browser.find_element(By.NAME, "warehouse_sku").send_keys(DEMO_UNMAPPED_SKU)
    browser.find_element(By.NAME, "_save").click()
    wait_for_text(browser, "was added successfully")
    held_pks = list(held.values_list("pk", flat=True))
    admin_action(browser, f"{base}/admin/fulfillment/order/?status__exact=held", "recheck_holds", held_pks)
    wait_for_text(browser, f"{len(held_pks)} order(s) released, 0 still held")
    run_queued_tasks()
    fixed = Order.objects.get(pk=held_pks[0])
    assert fixed.status == Order.Status.RELEASED

    # Record a shipment of the order that was held; the confirmation reaches Amazon.
    browser.get(f"{base}/admin/fulfillment/order/{fixed.pk}/change/")
    wait_for_text(browser, "Released to the warehouse", element_id="order-timeline")
    browser.find_element(By.ID, "record-shipment").click()
    wait_for_text(browser, f"Record shipment of order {fixed.amazon_order_id}")
    browser.find_element(By.NAME, "package_id").send_keys("PKG-DEMO-1")
    browser.find_element(By.NAME, "tracking_number").send_keys("1ZDEMO000000000007")  # a valid UPS 1Z (check digit 7)
    browser.find_element(By.CSS_SELECTOR, "form input[type=submit]").click()
    wait_for_text(browser, "Package PKG-DEMO-1 recorded")
    assert "confirmation_send_task" in run_queued_tasks()
    confirmation = ShipmentConfirmation.objects.get(order=fixed)
    assert confirmation.state == ShipmentConfirmation.State.ACCEPTED, confirmation.amazon_message
    browser.get(f"{base}/admin/fulfillment/order/{fixed.pk}/change/")
    wait_for_text(browser, "Package PKG-DEMO-1 confirmed to Amazon", element_id="order-timeline")

    # Amazon cancels another released order: the sandbox admin's "Cancel" action.
    victim = (
        Order.objects.filter(store=store, status=Order.Status.RELEASED, amazon_order_id__in=placed).first()
        or Order.objects.filter(store=store, status=Order.Status.RELEASED).exclude(pk=fixed.pk).first()
    )
    amazon_victim = SandboxOrder.objects.get(order_id=victim.amazon_order_id)
    admin_action(browser, f"{base}/admin/sandbox/sandboxorder/", "cancel_orders", [amazon_victim.pk])
    wait_for_text(browser, "1 order(s) cancelled")

    # Pull orders now: the cancellation reaches the product and the WMS's feed.
    _pull_orders_now(browser, base, store)
    victim.refresh_from_db()
    assert victim.status == Order.Status.CANCELLED
    browser.get(f"{base}/admin/fulfillment/order/{victim.pk}/change/")
    wait_for_text(browser, "Cancelled on Amazon", element_id="order-timeline")
    feed = _wms_cancellations(base, demo["wms_key"])
    assert [(c["amazon_order_id"], c["reason"]) for c in feed] == [(victim.amazon_order_id, "cancelled")]

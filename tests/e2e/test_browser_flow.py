"""The operations team's day in a real browser, against a live server whose
Amazon is the sandbox on the same server (reached only through the settings,
as in production): log in, connect a store through the consent page, import a
SKU CSV, pull orders, open an order's timeline, record a shipment, see it
confirmed.

E2E_SCREENSHOTS=1 also saves docs/dashboard.png and docs/order-timeline.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from connections.models import Marketplace, Store
from fulfillment.orders.models import Order, Warehouse
from fulfillment.shipments.models import ShipmentConfirmation
from mappings.models import ServiceLevel, ShippingMethodMapping, SkuMapping
from sandbox.models import SandboxOrder
from sandbox.sellers import sandbox_application_ensure, sandbox_seller_ensure
from tests.e2e.helpers import admin_login, run_queued_tasks, wait_for_text
from tests.e2e.login import enrol

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs"
SELLER = "A2E2ESELLER"


@pytest.fixture
def world(live_server, settings, tmp_path):
    # The product reaches "Amazon" at the live server's sandbox, like `make demo`.
    base = live_server.url
    settings.PUBLIC_BASE_URL = base
    settings.SP_API_ENDPOINT = f"{base}/sandbox"
    settings.LWA_TOKEN_URL = f"{base}/sandbox/auth/o2/token"
    settings.SELLER_CENTRAL_URL = f"{base}/sandbox"
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    # The admin asks for a second factor, as in production; ops has enrolled an app.
    settings.ADMIN_MFA_REQUIRED = True
    enrol(User.objects.create_superuser("ops", "ops@warehouse.example", "correct-horse-battery"))
    warehouse = Warehouse.objects.create(
        code="NJ1", name="New Jersey DC", time_zone="UTC", operations_email="ops@warehouse.example"
    )
    store = Store.objects.create(
        name="Acme US",
        marketplace=Marketplace.objects.get(code="US"),
        warehouse=warehouse,
        authorization_status=Store.Authorization.NOT_CONNECTED,
    )
    sandbox_application_ensure()
    seller = sandbox_seller_ensure(selling_partner_id=SELLER, name="Acme Trading")
    call_command("sandbox_orders", seller=SELLER, count=3, seed=7, stdout=open(os.devnull, "w"))  # noqa: SIM115
    # Every service level goes by UPS: the SKU mappings come from the CSV below.
    for level in ServiceLevel.values:
        ShippingMethodMapping.objects.create(
            marketplace=store.marketplace, service_level=level, prime=None, carrier="UPS", ship_code="GROUND"
        )
    skus = sorted(
        {item.sku for order in SandboxOrder.objects.filter(seller=seller) for item in order.items.all()}
    )
    csv = tmp_path / "skus.csv"
    csv.write_text(
        "store,amazon_sku,asin,warehouse_sku,units,sync_inventory,buffer\n"
        + "".join(f"Acme US,{sku},,WH-{sku},1,1,0\n" for sku in skus)
    )
    return {"base": base, "store": store, "csv": csv, "skus": skus}


def _shot(browser, name: str) -> None:
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        browser.save_screenshot(str(DOCS / name))


def test_the_operations_flow_in_a_browser(browser, world):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, store = world["base"], world["store"]

    # Log in: password, then the code from the authenticator app.
    admin_login(browser, base, username="ops", password="correct-horse-battery")

    # Connect the store through the sandbox's consent page.
    browser.get(f"{base}/admin/connections/store/{store.pk}/change/")
    browser.find_element(By.CSS_SELECTOR, f"a[href='/connections/stores/{store.pk}/authorize/']").click()
    wait_for_text(browser, "this is the local emulator of Amazon Seller Central")
    Select(browser.find_element(By.ID, "seller")).select_by_visible_text(f"Acme Trading ({SELLER})")
    browser.find_element(By.CSS_SELECTOR, "button[name=confirm]").click()
    wait_for_text(browser, "is connected to Amazon")
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.CONNECTED
    assert store.selling_partner_id == SELLER

    # Import the SKU CSV: preview, then confirm.
    browser.get(f"{base}/admin/mappings/skumapping/import-csv/")
    browser.find_element(By.NAME, "file").send_keys(str(world["csv"]))
    browser.find_element(By.CSS_SELECTOR, "input[type=submit][value='Check file']").click()
    wait_for_text(browser, f"{len(world['skus'])} new", element_id="import-preview")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit][value='Confirm import']").click()
    wait_for_text(browser, f"Imported {len(world['skus'])} rows")
    assert SkuMapping.objects.filter(store=store).count() == len(world["skus"])

    # Pull orders now (the admin action queues a task; run it as the cluster would).
    browser.get(f"{base}/admin/connections/store/")
    browser.find_element(By.CSS_SELECTOR, f"input[name=_selected_action][value='{store.pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("pull_orders_now")
    browser.find_element(By.NAME, "index").click()
    wait_for_text(browser, "Order download queued")
    assert "order_pull_task" in run_queued_tasks()
    released = Order.objects.filter(store=store, status=Order.Status.RELEASED).order_by("pk")
    assert released.count() == 3
    order = released.first()

    # The dashboard shows the store's figures.
    browser.get(f"{base}/admin/")
    row = browser.find_element(By.ID, f"ops-store-{store.pk}")
    assert row.find_element(By.CLASS_NAME, "ops-released").text == "3"

    # Open the order's timeline and record a shipment from it.
    browser.get(f"{base}/admin/fulfillment/order/{order.pk}/change/")
    wait_for_text(browser, "Released to the warehouse", element_id="order-timeline")
    browser.find_element(By.ID, "record-shipment").click()
    wait_for_text(browser, f"Record shipment of order {order.amazon_order_id}")
    browser.find_element(By.NAME, "package_id").send_keys("PKG-E2E-1")
    browser.find_element(By.NAME, "tracking_number").send_keys("1ZE2E0000000001")
    browser.find_element(By.CSS_SELECTOR, "form input[type=submit]").click()
    wait_for_text(browser, "Package PKG-E2E-1 recorded")

    # The confirmation goes to Amazon (the task queued on commit), and the page says so.
    assert "confirmation_send_task" in run_queued_tasks()
    confirmation = ShipmentConfirmation.objects.get(order=order)
    assert confirmation.state == ShipmentConfirmation.State.ACCEPTED, confirmation.amazon_message
    browser.get(f"{base}/admin/fulfillment/order/{order.pk}/change/")
    timeline = wait_for_text(browser, "Package PKG-E2E-1 confirmed to Amazon", element_id="order-timeline")
    assert "Package PKG-E2E-1 shipped" in timeline
    assert "Package PKG-E2E-1 confirmed to Amazon" in timeline
    browser.execute_script("document.getElementById('order-timeline').scrollIntoView()")
    _shot(browser, "order-timeline.png")

    # Back home: the package shows in the chart.
    browser.get(f"{base}/admin/")
    assert "Packages confirmed (1)" in wait_for_text(
        browser, "Packages confirmed", element_id="ops-dashboard"
    )
    _shot(browser, "dashboard.png")

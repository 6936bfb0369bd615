"""The exceptions queue in a real browser: an order held because the warehouse
does not know one of its SKUs; its page links to the add-mapping form
prefilled with the store and the Amazon SKU; saving the mapping queues the
re-check, which releases the order without anyone pressing Re-check.

E2E_SCREENSHOTS=1 also saves docs/orders-list.png (the orders list at 1366 px).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from connections.models import Marketplace, Store
from fulfillment.inventory.levels import inventory_update
from fulfillment.orders.models import Order, Warehouse
from fulfillment.orders.services.download import orders_pull
from mappings.models import ServiceLevel, ShippingMethodMapping, SkuMapping
from sandbox.models import SandboxOrder
from sandbox.orders import SANDBOX_CATALOG, sandbox_orders_create
from sandbox.sellers import sandbox_application_ensure, sandbox_seller_ensure
from tests.e2e.helpers import admin_login, run_queued_tasks, wait_for_text
from tests.e2e.login import enrol

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs"
SELLER = "A3E2EQUEUE"
TOKEN = "Atzr|e2e-queue-refresh-token"


@pytest.fixture
def held_world(live_server, settings):
    base = live_server.url
    settings.PUBLIC_BASE_URL = base
    settings.SP_API_ENDPOINT = f"{base}/sandbox"
    settings.LWA_TOKEN_URL = f"{base}/sandbox/auth/o2/token"
    settings.SELLER_CENTRAL_URL = f"{base}/sandbox"
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    settings.ADMIN_MFA_REQUIRED = True
    enrol(User.objects.create_superuser("ops", "ops@warehouse.example", "correct-horse-battery"))
    warehouse = Warehouse.objects.create(
        code="NJ1", name="New Jersey DC", time_zone="UTC", operations_email="ops@warehouse.example"
    )
    sandbox_application_ensure()
    seller = sandbox_seller_ensure(selling_partner_id=SELLER, name="Acme Trading", refresh_token=TOKEN)
    # A new store: unmapped Amazon SKUs ship as themselves when the warehouse knows them.
    store = Store.objects.create(
        name="Acme US",
        marketplace=Marketplace.objects.get(code="US"),
        warehouse=warehouse,
        selling_partner_id=SELLER,
        authorization_status=Store.Authorization.CONNECTED,
        refresh_token=TOKEN,
    )
    for level in ServiceLevel.values:
        ShippingMethodMapping.objects.create(
            marketplace=store.marketplace, service_level=level, prime=None, carrier="UPS", ship_code="GROUND"
        )
    placed = sandbox_orders_create(seller=seller, count=6, seed=11, status="UNSHIPPED")
    # The warehouse has never named the first order's first SKU: its orders are held.
    unknown = SandboxOrder.objects.get(pk=placed[0].pk).items.order_by("order_item_id").first().sku
    inventory_update(
        warehouse=warehouse,
        items=[(sku, 20) for sku, *_ in SANDBOX_CATALOG if sku != unknown],
        complete=False,
    )
    assert orders_pull(store=store).ok
    held = Order.objects.get(store=store, amazon_order_id=placed[0].order_id)
    assert held.status == Order.Status.HELD
    assert held.hold_reasons == [f"SKU {unknown} is unknown to the warehouse"]
    return {"base": base, "store": store, "held": held, "unknown": unknown}


def _shot(browser, name: str) -> None:
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        browser.save_screenshot(str(DOCS / name))


def test_a_held_order_is_released_by_the_mapping_its_page_offers(browser, held_world):
    from selenium.webdriver.common.by import By

    base, store, held, unknown = (held_world[k] for k in ("base", "store", "held", "unknown"))
    admin_login(browser, base, username="ops", password="correct-horse-battery")

    # The held order's page: the reason, Re-check beside it, the prefilled add-mapping link.
    browser.get(f"{base}/admin/fulfillment/order/{held.pk}/change/")
    wait_for_text(browser, f"SKU {unknown} is unknown to the warehouse")
    assert browser.find_element(By.CSS_SELECTOR, "ul.hold-reasons button.hold-recheck").text == "Re-check"
    browser.find_element(By.CSS_SELECTOR, "ul.hold-reasons a.hold-fix").click()

    # The add form comes prefilled with the store and the Amazon SKU.
    wait_for_text(browser, "Add SKU mapping")
    assert browser.find_element(By.NAME, "amazon_sku").get_attribute("value") == unknown
    store_select = browser.find_element(By.NAME, "store")
    assert store_select.get_attribute("value") == str(store.pk)
    browser.find_element(By.NAME, "warehouse_sku").send_keys(f"WH-{unknown}")
    browser.find_element(By.NAME, "_save").click()
    text = wait_for_text(browser, "held order(s) this change may release")
    still_held = Order.objects.filter(store=store, status=Order.Status.HELD).count()
    assert f"Re-checking {still_held} held order(s)" in text
    assert SkuMapping.objects.get(store=store, amazon_sku=unknown).warehouse_sku == f"WH-{unknown}"

    # The re-check task (queued on commit) releases the order: nobody pressed a button.
    assert "held_orders_recheck_task" in run_queued_tasks()
    held.refresh_from_db()
    assert held.status == Order.Status.RELEASED and held.hold_reasons == []
    browser.get(f"{base}/admin/fulfillment/order/{held.pk}/change/")
    wait_for_text(browser, "Released to the warehouse", element_id="order-timeline")
    assert not Order.objects.filter(store=store, status=Order.Status.HELD).exists()

    # The orders list at 1366 px: ship-by is in view, late and due-today rows stand out.
    now = timezone.now()
    orders = list(Order.objects.filter(store=store).order_by("pk"))
    for order, hours in zip(orders, (-5, 2, 30, 80, 120, 200), strict=False):
        Order.objects.filter(pk=order.pk).update(ship_by_latest=now + dt.timedelta(hours=hours))
    browser.set_window_size(1366, 900)
    browser.get(f"{base}/admin/fulfillment/order/?status__exact=open")
    header = browser.find_element(By.CSS_SELECTOR, "#result_list th.column-ship_by")
    assert header.location["x"] + header.size["width"] <= 1366
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result_list .ship-by-late")) == 1
    _shot(browser, "orders-list.png")

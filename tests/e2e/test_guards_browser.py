"""The guards that ask before they hurt, in a real browser: a push the zero-stock guard
held is confirmed on its confirmation page, and a package whose tracking number is not
its carrier's is held and then sent anyway. Amazon is the sandbox (in-process, as in the
rest of the suite); the browser works against the live server.

E2E_SCREENSHOTS=1 also saves docs/held-push.png.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from connections.models import Marketplace, Store
from fulfillment.inventory.models import InventoryLevel, InventoryPush
from fulfillment.inventory.services import inventory_push_run
from fulfillment.orders.models import Warehouse
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.wms.services import ShipmentInput, ShipmentLineInput, shipment_record
from mappings.models import SkuMapping
from sandbox.listings import sandbox_listing_upsert
from sandbox.models import SandboxListing, SandboxOrderItem, SandboxPackage
from sandbox.orders import sandbox_orders_create
from sandbox.sellers import sandbox_application_ensure, sandbox_seller_ensure
from tests.e2e.helpers import admin_login, run_queued_tasks, wait_for_text
from tests.e2e.login import enrol
from tests.wms.factories import make_released_order

pytestmark = pytest.mark.e2e

DOCS = Path(__file__).resolve().parents[2] / "docs"
TOKEN = "Atzr|guards-refresh-token"
ITEM = "44444444444444"


@pytest.fixture
def guards(live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    settings.ADMIN_MFA_REQUIRED = True
    settings.TRACKING_NUMBER_CHECK = True
    settings.SP_API_MAX_ATTEMPTS = 1
    enrol(User.objects.create_superuser("ops", "ops@warehouse.example", "correct-horse-battery"))
    warehouse = Warehouse.objects.create(code="NJ1", name="New Jersey DC", time_zone="UTC")
    store = Store.objects.create(
        name="Acme US",
        marketplace=Marketplace.objects.get(code="US"),
        warehouse=warehouse,
        selling_partner_id="A1GUARDS",
        authorization_status=Store.Authorization.CONNECTED,
        refresh_token=TOKEN,
    )
    sandbox_application_ensure()
    seller = sandbox_seller_ensure(
        selling_partner_id="A1GUARDS", name="Acme", marketplace_codes=("US",), refresh_token=TOKEN
    )
    return {"base": live_server.url, "store": store, "seller": seller, "warehouse": warehouse}


def _log_in(browser, guards) -> None:
    admin_login(browser, guards["base"], username="ops", password="correct-horse-battery")


def test_a_held_push_is_confirmed_on_its_confirmation_page(browser, guards):
    from selenium.webdriver.common.by import By

    store, seller, warehouse = guards["store"], guards["seller"], guards["warehouse"]
    # given: four SKUs on Amazon with stock, then the warehouse reports three empty
    for sku in ("MUG", "TEE", "CAP", "BAG"):
        SkuMapping.objects.create(store=store, amazon_sku=sku, warehouse_sku=f"WH-{sku}", sync_inventory=True)
        InventoryLevel.objects.create(
            warehouse=warehouse, sku=f"WH-{sku}", available=5, updated_at=timezone.now()
        )
        sandbox_listing_upsert(seller=seller, sku=sku, quantity=0)
    assert inventory_push_run(store=store).counts["accepted"] == 4
    InventoryLevel.objects.filter(sku__in=["WH-MUG", "WH-TEE", "WH-CAP"]).update(available=0)
    inventory_push_run(store=store)
    push = InventoryPush.objects.get(state=InventoryPush.State.AWAITING_CONFIRMATION)

    # when: ops opens the held push
    _log_in(browser, guards)
    browser.get(f"{guards['base']}/admin/inventory/inventorypush/{push.pk}/change/")
    wait_for_text(browser, "Held by the zero-stock guard", element_id="push-guarded")

    # then: the SKUs old -> new, Confirm and push / Discard, no Save or Delete
    table = browser.find_element(By.CSS_SELECTOR, "table.guarded-skus").text
    assert "MUG 5 0" in table and "TEE 5 0" in table and "CAP 5 0" in table
    assert not browser.find_elements(By.NAME, "_save")
    assert not browser.find_elements(By.CSS_SELECTOR, "a.deletelink")
    assert browser.find_elements(By.CSS_SELECTOR, "a.push-discard")
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        browser.save_screenshot(str(DOCS / "held-push.png"))

    # when: Confirm and push, on its confirmation page
    browser.find_element(By.CSS_SELECTOR, "a.push-confirm").click()
    wait_for_text(browser, "this push would send 3 SKUs", element_id="push-effect")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit][value='Confirm and push']").click()
    wait_for_text(browser, f"Push {push.pk} confirmed")

    # then: the queued push sends it, and Amazon has 0
    assert "inventory_push_task" in run_queued_tasks()
    push.refresh_from_db()
    assert push.state == InventoryPush.State.DONE and push.confirmed_by.username == "ops"
    assert SandboxListing.objects.get(seller=seller, sku="MUG").quantity == 0


def test_a_tracking_number_is_held_and_sent_anyway(browser, guards):
    from selenium.webdriver.common.by import By

    store, seller = guards["store"], guards["seller"]
    # given: a released order Amazon knows, and a package with a mistyped UPS number
    amazon = sandbox_orders_create(seller=seller, count=1, seed=5, status="UNSHIPPED")[0]
    SandboxOrderItem.objects.filter(order=amazon).delete()
    SandboxOrderItem.objects.create(
        order=amazon, order_item_id=ITEM, sku="MUG", asin="B000000000", title="Mug", quantity_ordered=1,
        unit_price=Decimal("9.99"),
    )  # fmt: skip
    order = make_released_order(
        store=store,
        amazon_order_id=amazon.order_id,
        marketplace_id="ATVPDKIKX0DER",
        purchased_at=amazon.created_time,
        lines=[(ITEM, "MUG", 1, [("WH-MUG", 1)])],
    )
    shipment, _ = shipment_record(
        warehouse=store.warehouse,
        data=ShipmentInput(
            order=str(order.pk),
            package_id="PKG-TYPO",
            carrier="UPS",
            tracking_number="1Z5R89390357567128",  # the last digit is wrong
            ship_date=timezone.now() - dt.timedelta(minutes=5),
            lines=[ShipmentLineInput(quantity=1, order_item_id=ITEM)],
        ),
        source="api",
    )
    run_queued_tasks()
    confirmation = ShipmentConfirmation.objects.get(shipment=shipment)
    assert confirmation.state == ShipmentConfirmation.State.HELD
    assert not SandboxPackage.objects.exists()

    # when: ops opens the package's confirmation
    _log_in(browser, guards)
    browser.get(f"{guards['base']}/admin/confirmations/shipmentconfirmation/{confirmation.pk}/change/")
    page = wait_for_text(browser, "check digit is wrong")
    assert "Held: tracking number" in page

    # when: Send anyway, on its confirmation page
    browser.find_element(By.CSS_SELECTOR, "a.send-anyway").click()
    wait_for_text(browser, "Valid Tracking Rate")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit][value='Yes, send it anyway']").click()
    wait_for_text(browser, "will be sent to Amazon now")

    # then: sent as it is, and who did it is on the row
    assert "confirmation_send_task" in run_queued_tasks()
    confirmation.refresh_from_db()
    assert confirmation.state == ShipmentConfirmation.State.ACCEPTED
    assert confirmation.sent_anyway_by == "ops"
    assert SandboxPackage.objects.get().tracking_number == "1Z5R89390357567128"
    browser.get(f"{guards['base']}/admin/confirmations/shipmentconfirmation/{confirmation.pk}/change/")
    assert "ops" in wait_for_text(browser, "Accepted by Amazon")

"""Under the production Content-Security-Policy, the admin, our own pages (the
dashboard's inline SVG chart, an order's timeline, the consent round trip) and
the API docs (Swagger UI) load and work with no violation in Chromium's
console."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from connections.models import Marketplace, Store
from fulfillment.orders.models import Order, Warehouse
from sandbox.sellers import sandbox_application_ensure, sandbox_seller_ensure
from tests.e2e.login import enrolment_code
from tests.orders.factories import make_order

pytestmark = pytest.mark.e2e


def _violations(browser) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Content-Security-Policy" in entry["message"]
    ]


def _wait_for(browser, css: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def _visit(browser, url: str, *, until_css: str) -> None:
    browser.get(url)
    _wait_for(browser, until_css)


@pytest.fixture
def csp_world(live_server, settings):
    base = live_server.url
    settings.PUBLIC_BASE_URL = base
    settings.SP_API_ENDPOINT = f"{base}/sandbox"
    settings.LWA_TOKEN_URL = f"{base}/sandbox/auth/o2/token"
    settings.SELLER_CENTRAL_URL = f"{base}/sandbox"
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
    # As in production: a second factor, enrolled at this first login.
    settings.ADMIN_MFA_REQUIRED = True
    User.objects.create_superuser("ops", "ops@warehouse.example", "correct-horse-battery")
    warehouse = Warehouse.objects.create(code="NJ1", name="New Jersey DC", time_zone="UTC")
    store = Store.objects.create(
        name="Acme US",
        marketplace=Marketplace.objects.get(code="US"),
        warehouse=warehouse,
        authorization_status=Store.Authorization.NOT_CONNECTED,
    )
    sandbox_application_ensure()
    sandbox_seller_ensure(selling_partner_id="A2CSPSELLER", name="CSP Trading")
    order = make_order(store=store, status=Order.Status.RELEASED)
    return {"base": base, "store": store, "order": order}


def test_admin_pages_and_api_docs_load_without_csp_violations(browser, csp_world):
    from selenium.webdriver.common.by import By

    base, store, order = csp_world["base"], csp_world["store"], csp_world["order"]
    seen: dict[str, list[str]] = {}

    _visit(browser, f"{base}/admin/login/", until_css="input[name=username]")
    seen["login"] = _violations(browser)
    browser.find_element(By.NAME, "username").send_keys("ops")
    browser.find_element(By.NAME, "password").send_keys("correct-horse-battery")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    # First login: the enrolment page (QR code), then the recovery codes.
    _wait_for(browser, "#mfa-qr")
    seen["second factor setup"] = _violations(browser)
    browser.find_element(By.NAME, "token").send_keys(enrolment_code(User.objects.get(username="ops")))
    browser.find_element(By.CSS_SELECTOR, "#mfa-setup-form input[type=submit]").click()
    _wait_for(browser, "#recovery-codes")
    seen["recovery codes"] = _violations(browser)

    pages = {
        "dashboard": (f"{base}/admin/", "#ops-dashboard svg"),
        "store page": (f"{base}/admin/connections/store/{store.pk}/change/", "#store_form"),
        "order timeline": (f"{base}/admin/fulfillment/order/{order.pk}/change/", "#order-timeline"),
        "order list": (f"{base}/admin/fulfillment/order/", "#result_list"),
        "SKU import": (f"{base}/admin/mappings/skumapping/import-csv/", "input[name=file]"),
        "Swagger UI": (f"{base}/api/v1/docs/", "#swagger-ui .opblock"),
    }
    for name, (url, css) in pages.items():
        _visit(browser, url, until_css=css)
        seen[name] = _violations(browser)

    # The consent round trip: the sandbox's page, then ours.
    _visit(browser, f"{base}/connections/stores/{store.pk}/authorize/", until_css="button[name=confirm]")
    seen["consent"] = _violations(browser)
    browser.find_element(By.CSS_SELECTOR, "button[name=confirm]").click()
    _wait_for(browser, ".box")
    seen["authorization result"] = _violations(browser)

    assert "is connected to Amazon" in browser.find_element(By.CSS_SELECTOR, ".box").text
    assert {name: found for name, found in seen.items() if found} == {}

import pytest
from django.core.management import call_command

from connections.models import Store
from fulfillment.orders.models import Order
from fulfillment.orders.services.download import orders_pull
from fulfillment.wms.models import WmsApiKey
from sandbox.demo import demo_data_ensure


@pytest.mark.django_db
def test_demo_data_is_idempotent_and_usable(settings):
    # when: run twice, as `make demo` does on every start
    first = demo_data_ensure()
    second = demo_data_ensure()

    # then: one of everything, the store connected, and its orders download and release
    assert Store.objects.count() == 2
    assert first.connected_store.pk == second.connected_store.pk
    assert second.connected_store.is_connected
    assert WmsApiKey.objects.filter(revoked_at=None).count() == 2
    run = orders_pull(store=second.connected_store)
    assert run.ok, run.error
    assert Order.objects.count() > 0
    assert Order.objects.filter(status=Order.Status.RELEASED).exists()
    # one catalog SKU is left unmapped, so the demo shows holds to fix
    held = Order.objects.filter(status=Order.Status.HELD)
    assert held.exists()
    assert all("ACME-CABLE-USB-C" in " ".join(order.hold_reasons) for order in held)


@pytest.mark.django_db
def test_demo_setup_refuses_production(settings):
    settings.DEBUG = False
    with pytest.raises(Exception, match="DEBUG=1"):
        call_command("demo_setup")

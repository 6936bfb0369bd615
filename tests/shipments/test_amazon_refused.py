"""What Amazon holds, not what we assumed (issue 15.6): an order shipped here whose
confirmation Amazon refused shows that conflict, and a confirmation carries
only the shipping method the warehouse used."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment.ops.selectors import dashboard_for
from fulfillment.orders.models import Order
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.shipments.services.confirmations import confirmations_resolve
from sandbox.models import SandboxOrder, SandboxPackage

from .conftest import ITEM_A, ITEM_B

pytestmark = pytest.mark.django_db

State = ShipmentConfirmation.State


def test_an_order_amazon_cancelled_shows_shipped_amazon_refused(
    order, amazon_order, ship, sweep, admin_client, admin_user
):
    # given: the warehouse shipped the whole order; the buyer cancelled it on Amazon meanwhile
    shipment = ship(order, {ITEM_A: 2, ITEM_B: 1})
    SandboxOrder.objects.filter(pk=amazon_order.pk).update(status="CANCELLED")

    # when: the sweep runs twice
    sweep()
    sweep()

    # then: the order is shipped here, refused there, and says so everywhere
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    changelist = reverse("admin:fulfillment_order_changelist")
    listed = admin_client.get(changelist)
    refused = admin_client.get(changelist, {"amazon_refused": "yes"})
    page = admin_client.get(reverse("admin:fulfillment_order_change", args=[order.pk]))
    assert "Shipped, Amazon refused: " in listed.content.decode()
    assert [o.pk for o in refused.context["cl"].result_list] == [order.pk]
    assert "Shipped, Amazon refused: " in page.content.decode()
    assert "cancelled" in page.content.decode()
    (health,) = dashboard_for(user=admin_user, now=timezone.now()).stores
    assert health.refused_orders.value == 1 and health.refused_orders.alert
    assert [o.pk for o in admin_client.get(health.refused_orders.url).context["cl"].result_list] == [order.pk]

    # when: a person settles it in Seller Central and marks it resolved
    confirmations_resolve(confirmation_ids=[shipment.confirmation.pk], user="ops")

    # then: no conflict left
    assert not admin_client.get(changelist, {"amazon_refused": "yes"}).context["cl"].result_list
    assert "Amazon refused: " not in admin_client.get(changelist).content.decode()
    (health,) = dashboard_for(user=admin_user, now=timezone.now()).stores
    assert health.refused_orders.value == 0


@pytest.mark.parametrize(
    ("carrier", "service", "sent"),
    [
        # The order planned UPS-GROUND; the warehouse shipped FedEx and named no service.
        ("FedEx", "", ""),
        ("FedEx", "FedEx Home Delivery", "FedEx Home Delivery"),
        ("UPS", "", ""),
    ],
)
def test_the_confirmation_carries_only_the_warehouses_shipping_method(
    order, amazon_order, ship, sweep, carrier, service, sent
):
    assert order.ship_code == "UPS-GROUND"
    ship(order, {ITEM_A: 2, ITEM_B: 1}, carrier=carrier, service=service)

    run, _ = sweep()
    again, _ = sweep()

    package = SandboxPackage.objects.get()
    assert package.shipping_method == sent
    assert run.counts["accepted"] == 1 and again.counts["sent"] == 0

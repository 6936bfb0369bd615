"""Each POST of a delivery is an attempt of the outbound queue base: the WMS's
status code and the duration are on the row; errors carry no URL (it may hold a token)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.utils import timezone

from fulfillment.wms.models import WebhookDelivery
from fulfillment.wms.services import webhook_deliveries_sweep

from .factories import make_webhook
from .test_webhook_and_command import FakeWms

pytestmark = pytest.mark.django_db


def _history(delivery: WebhookDelivery) -> list[tuple]:
    delivery.refresh_from_db()
    return [(e["n"], e["outcome"], e["response_code"]) for e in delivery.attempt_history]


def test_a_failed_then_sent_delivery_records_both_answers(store, order):
    # given
    make_webhook(warehouse=store.warehouse)
    wms = FakeWms(503, 201)

    # when: a failure, then (the backoff passed) the sweep runs twice
    webhook_deliveries_sweep(client=wms.client())
    WebhookDelivery.objects.update(not_before=timezone.now() - dt.timedelta(seconds=1))
    webhook_deliveries_sweep(client=wms.client())
    webhook_deliveries_sweep(client=wms.client())

    # then
    delivery = WebhookDelivery.objects.get()
    assert _history(delivery) == [(1, "retry", 503), (2, "ok", 201)]
    assert all(isinstance(e["duration_ms"], int) for e in delivery.attempt_history)
    assert (delivery.status, delivery.last_error, len(wms.requests)) == ("sent", "", 2)
    assert delivery.last_attempt_at is not None


def test_a_connection_failure_is_recorded_without_the_url_or_the_order(store, order):
    # given: the URL carries a token, and the connection fails
    make_webhook(warehouse=store.warehouse, url="https://wms.example/hook?token=sekrit-token")

    def refuse(request):
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))

    # when: twice (the second finds it backing off)
    webhook_deliveries_sweep(client=client)
    webhook_deliveries_sweep(client=client)

    # then
    delivery = WebhookDelivery.objects.get()
    assert _history(delivery) == [(1, "retry", None)]
    stored = delivery.last_error + repr(delivery.attempt_history)
    assert "ConnectError" in stored
    assert "sekrit" not in stored and "wms.example" not in stored and "cannot reach" not in stored


def test_an_order_no_longer_released_is_skipped_without_an_attempt(store, order):
    from fulfillment.orders.models import Order

    make_webhook(warehouse=store.warehouse)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    WebhookDelivery.objects.create(webhook=store.warehouse.webhook, order=order)

    webhook_deliveries_sweep(client=FakeWms().client())
    webhook_deliveries_sweep(client=FakeWms().client())

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.attempt_history) == ("skipped", 0, [])

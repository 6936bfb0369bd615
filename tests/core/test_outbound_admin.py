"""The one admin side of the three outbound queues (fulfillment/core/outbound_admin.py):
attempts / next try / last error columns, the attempt history on the row's page,
and "Retry now", which asks first when it would act on more than one row."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.wms.models import WebhookDelivery
from tests.inventory.factories import make_feed
from tests.shipments.factories import make_confirmation
from tests.wms.factories import make_delivery

pytestmark = pytest.mark.django_db

DELIVERIES = "admin:wms_webhookdelivery_changelist"


def _failed_delivery(**kw) -> WebhookDelivery:
    delivery = make_delivery(status=WebhookDelivery.Status.FAILED, **kw)
    delivery.attempt_failed(
        delivery.attempt_started(), code=503, error="HTTP 503 from the webhook", retryable=False
    )
    delivery.save()
    return delivery


def test_the_list_shows_attempts_next_try_and_last_error(admin_client):
    _failed_delivery()

    page = admin_client.get(reverse(DELIVERIES)).content.decode()

    assert "column-attempts" in page and "column-next_try" in page and "column-last_error_short" in page
    assert "HTTP 503 from the webhook" in page


def test_the_rows_page_shows_its_attempt_history_newest_first(admin_client):
    delivery = _failed_delivery()
    delivery.attempt_succeeded(delivery.attempt_started(), code=200)
    delivery.save()

    page = admin_client.get(reverse("admin:wms_webhookdelivery_change", args=[delivery.pk])).content.decode()

    table = page[page.index('class="attempt-history"') :]
    assert table.index("<td>200</td>") < table.index("<td>503</td>")
    assert "Failed, given up" in table and "Succeeded" in table and " ms</td>" in table


def test_retrying_one_row_goes_at_once(admin_client):
    delivery = _failed_delivery()

    response = admin_client.post(reverse(DELIVERIES), {"action": "retry", "_selected_action": [delivery.pk]})

    delivery.refresh_from_db()
    assert response.status_code == 302
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 0, "")
    assert len(delivery.attempt_history) == 1  # kept


def test_retrying_several_rows_asks_first_then_retries_them(admin_client):
    # given
    rows = [_failed_delivery() for _ in range(3)]
    ids = [d.pk for d in rows]

    # when: the action
    asked = admin_client.post(reverse(DELIVERIES), {"action": "retry", "_selected_action": ids})

    # then: a page naming them, nothing changed yet
    page = asked.content.decode()
    assert asked.status_code == 200 and "Retry 3 webhook deliveries now?" in page
    assert all(str(d) in page for d in rows) and 'name="post" value="yes"' in page
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}

    # when: confirmed
    confirmed = admin_client.post(
        reverse(DELIVERIES), {"action": "retry", "_selected_action": ids, "post": "yes"}
    )

    # then
    assert confirmed.status_code == 302
    assert set(WebhookDelivery.objects.values_list("status", "attempts")) == {("pending", 0)}


def test_confirmations_offer_the_same_retry_and_history(admin_client, monkeypatch):
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args: None)
    confirmation = make_confirmation()
    confirmation.attempt_failed(
        confirmation.attempt_started(), code=400, error="InvalidInput", retryable=False
    )
    confirmation.save()

    page = admin_client.get(
        reverse("admin:confirmations_shipmentconfirmation_change", args=[confirmation.pk])
    ).content.decode()
    admin_client.post(
        reverse("admin:confirmations_shipmentconfirmation_changelist"),
        {"action": "retry", "_selected_action": [confirmation.pk]},
    )

    assert 'class="attempt-history"' in page and "<td>400</td>" in page
    confirmation.refresh_from_db()
    assert (confirmation.state, confirmation.attempts) == (ShipmentConfirmation.State.PENDING, 0)


def test_a_feeds_read_only_page_still_offers_retry_now(admin_client, monkeypatch):
    # given: a feed waiting after an error (feeds' pages are read-only)
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args: None)
    feed = make_feed(state="submitted")
    feed.attempt_failed(feed.attempt_started(), code=503, error="503 server error", retryable=True)
    feed.save()
    url = reverse("admin:inventory_inventoryfeed_changelist")

    # when
    listed = admin_client.get(url)
    response = admin_client.post(url, {"action": "retry", "_selected_action": [feed.pk]})

    # then
    assert "Retry now" in listed.content.decode()
    assert response.status_code == 302
    feed.refresh_from_db()
    assert (feed.attempts, feed.last_error, len(feed.attempt_history)) == (0, "", 1)

"""The outbound webhook (signed, retried with backoff, never doubled) and create_wms_key."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import httpx
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule

from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.schedules import WEBHOOK_SWEEP_SCHEDULE
from fulfillment.orders.models import Order
from fulfillment.wms.models import WarehouseWebhook, WebhookDelivery, WmsApiKey
from fulfillment.wms.services import webhook_deliveries_sweep, wms_key_hash
from fulfillment.wms.tasks import webhook_sweep_task

from .factories import make_released_order, make_webhook

pytestmark = pytest.mark.django_db


class FakeWms:
    """An httpx transport that records requests and answers from a script."""

    def __init__(self, *statuses: int):
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def _make_due():
    WebhookDelivery.objects.update(not_before=timezone.now() - dt.timedelta(seconds=1))


def test_it_posts_released_orders_signed_and_only_once(store, order):
    # given
    webhook = make_webhook(warehouse=store.warehouse, url="https://wms.example/hook", secret="s3cret")
    make_released_order(store=store, status=Order.Status.HELD, released_at=None)
    wms = FakeWms()

    # when: the sweep runs twice
    first = webhook_deliveries_sweep(client=wms.client())
    second = webhook_deliveries_sweep(client=wms.client())

    # then
    assert first["enqueued"] == 1 and first["sent"] == 1
    assert second == {"enqueued": 0, "sent": 0, "failed": 0, "retrying": 0, "skipped": 0}
    (request,) = wms.requests
    body = request.content
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert request.headers["X-Signature"] == expected
    assert json.loads(body)["id"] == order.pk and json.loads(body)["lines"][0]["warehouse_sku"] == "WH-A"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "sent" and delivery.attempts == 1 and delivery.webhook == webhook


def test_it_retries_with_backoff_then_fails(store, order, settings):
    # given
    settings.WMS_WEBHOOK_MAX_ATTEMPTS = 3
    make_webhook(warehouse=store.warehouse)
    wms = FakeWms(500, 503, 500)

    # when
    before = timezone.now()
    webhook_deliveries_sweep(client=wms.client())
    delivery = WebhookDelivery.objects.get()
    not_yet = webhook_deliveries_sweep(client=wms.client())

    # then: the first failure waits a minute, then two, then gives up
    assert delivery.status == "pending" and delivery.attempts == 1 and "HTTP 500" in delivery.last_error
    assert delivery.not_before >= before + dt.timedelta(minutes=1)
    assert not_yet["retrying"] == 0 and len(wms.requests) == 1
    _make_due()
    webhook_deliveries_sweep(client=wms.client())
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.not_before >= timezone.now() + dt.timedelta(seconds=110)
    _make_due()
    webhook_deliveries_sweep(client=wms.client())
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempts == 3 and len(wms.requests) == 3
    windows = [WebhookDelivery.retry_policy.window(n) for n in (1, 2, 3)]
    assert windows == [dt.timedelta(minutes=m) for m in (1, 2, 4)]


def test_it_reaches_the_in_process_testserver(store, order):
    # given: the WMS endpoint is the app itself; /no-such-hook answers 404
    make_webhook(warehouse=store.warehouse, url="http://testserver/no-such-hook/")

    # when
    webhook_deliveries_sweep()

    # then
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and "HTTP 404" in delivery.last_error


def test_an_order_cancelled_before_sending_is_skipped(store, order):
    make_webhook(warehouse=store.warehouse)
    webhook_deliveries_sweep(client=FakeWms(500).client())
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    _make_due()
    wms = FakeWms()
    webhook_deliveries_sweep(client=wms.client())
    assert WebhookDelivery.objects.get().status == "skipped" and wms.requests == []


def test_saving_a_webhook_in_the_admin_schedules_the_sweep_once(store, rf, admin_user):
    from django.contrib import admin

    webhook_admin = admin.site._registry[WarehouseWebhook]
    request = rf.post("/")
    request.user = admin_user
    webhook = make_webhook(warehouse=store.warehouse)

    webhook_admin.save_model(request, webhook, form=None, change=False)
    webhook_admin.save_model(request, webhook, form=None, change=True)
    assert Schedule.objects.filter(name=WEBHOOK_SWEEP_SCHEDULE).count() == 1

    webhook_admin.delete_model(request, webhook)
    assert not Schedule.objects.filter(name=WEBHOOK_SWEEP_SCHEDULE).exists()


def test_the_sweep_task_writes_a_run_operators_can_read(warehouse):
    make_webhook(warehouse=warehouse)

    first, second = webhook_sweep_task(), webhook_sweep_task()

    runs = list(SyncRun.objects.filter(kind=SyncRun.Kind.WEBHOOK_SWEEP).order_by("pk"))
    counts = {"enqueued": 0, "sent": 0, "failed": 0, "retrying": 0, "skipped": 0}
    assert first == {"sync_run": runs[0].pk, "ok": True, **counts}
    assert second == {"sync_run": runs[1].pk, "ok": True, **counts}
    assert all(run.store is None and run.ok for run in runs)


def test_create_wms_key_prints_a_working_key_once(warehouse, capsys):
    # when
    call_command("create_wms_key", "--warehouse", "NJ1", "--name", "prod")

    # then
    plain = capsys.readouterr().out.strip()
    key = WmsApiKey.objects.get()
    assert key.key_hash == wms_key_hash(plain) and key.warehouse == warehouse and key.name == "prod"


def test_create_wms_key_refuses_an_unknown_warehouse(db):
    with pytest.raises(CommandError, match="No warehouse"):
        call_command("create_wms_key", "--warehouse", "NOPE")

"""A real SQS wire protocol for the notification tests: moto's server, started once
in this process on a free local port, and one fresh queue per test."""

from __future__ import annotations

import socket
import uuid

import boto3
import pytest

from fulfillment.inventory.levels import inventory_update
from mappings.models import ServiceLevel, ShippingMethodMapping
from sandbox.orders import SANDBOX_CATALOG


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def sqs_queue(moto_endpoint, settings, monkeypatch) -> str:
    """A new queue, and the settings that point the product and the sandbox at it."""
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
    ):
        monkeypatch.setenv(name, value)
    settings.SQS_ENDPOINT_URL = moto_endpoint
    settings.AWS_REGION = "us-east-1"
    client = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    url = client.create_queue(QueueName=f"order-change-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    settings.SQS_QUEUE_URL = url
    yield url
    client.delete_queue(QueueUrl=url)


@pytest.fixture
def queue_client(moto_endpoint, sqs_queue):
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def every_level_by_ups(store):
    """Every sandbox order releasable: a shipping method for each level, and the
    warehouse knows every SKU of the sandbox catalog (its stock names them)."""
    inventory_update(
        warehouse=store.warehouse, items=[(sku, 5) for sku, *_ in SANDBOX_CATALOG], complete=False
    )
    for level in ServiceLevel.values:
        ShippingMethodMapping.objects.create(
            store=store, service_level=level, prime=None, carrier="UPS", ship_code="GND"
        )


@pytest.fixture
def subscribed(store, sandbox_seller, sqs_queue, every_level_by_ups):
    """The store subscribed to ORDER_CHANGE at the sandbox, through the product's setup."""
    from fulfillment.orders.services.notification_setup import notification_subscription_setup

    notification_subscription_setup(store=store)
    store.notification_subscription.refresh_from_db()
    assert store.notification_subscription.state == "active", store.notification_subscription.error
    return store


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Run a sandbox change and deliver the notifications it queued for after commit."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run

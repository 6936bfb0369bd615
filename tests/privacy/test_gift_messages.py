"""Gift messages (issue 16.5): encrypted at rest like the recipient; the purge clears them."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from fulfillment.core.fields import decrypt_str, encrypt_str
from fulfillment.orders.models import Order, OrderLine
from fulfillment.privacy.services import personal_data_purge
from tests.wms.factories import make_released_order, make_shipment

pytestmark = pytest.mark.django_db

MESSAGE = "Happy birthday, Jane! Love from Aunt Mary at 12 Elm Road"


def _raw(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT gift_message FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_order_and_line_gift_messages_are_stored_encrypted(store):
    # given
    order = make_released_order(store=store, is_gift=True, gift_message=MESSAGE)
    line = order.lines.get()
    OrderLine.objects.filter(pk=line.pk).update(gift_message=MESSAGE)

    # when
    raw_order, raw_line = _raw("fulfillment_order", order.pk), _raw("fulfillment_orderline", line.pk)

    # then: Fernet tokens in the columns, the text back through the model
    for raw in (raw_order, raw_line):
        assert raw.startswith("gAAAA")
        assert "Jane" not in raw and "Elm" not in raw
    assert Order.objects.get(pk=order.pk).gift_message == MESSAGE
    assert OrderLine.objects.get(pk=line.pk).gift_message == MESSAGE


def test_the_download_stores_gift_messages_encrypted(store, sandbox_seller):
    # given: a sandbox gift order
    from django.core.management import call_command

    from sandbox.models import SandboxOrderItem

    call_command(
        "sandbox_orders",
        seller=sandbox_seller.selling_partner_id,
        count=10,
        seed=3,
        stdout=open("/dev/null", "w"),  # noqa: SIM115
    )
    SandboxOrderItem.objects.update(gift_message=MESSAGE, gift_wrap_level="Classic")
    gift_items = SandboxOrderItem.objects.exclude(gift_message="")
    assert gift_items.exists()

    # when
    call_command("pull_orders", stdout=open("/dev/null", "w"))  # noqa: SIM115

    # then
    lines = OrderLine.objects.exclude(gift_message="")
    assert lines.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT gift_message FROM fulfillment_orderline WHERE gift_message <> ''")
        raws = [r[0] for r in cursor.fetchall()]
    assert raws and all(r.startswith("gAAAA") for r in raws)
    assert {line.gift_message for line in lines} <= set(gift_items.values_list("gift_message", flat=True))


def test_the_migration_encrypts_plain_text_and_leaves_tokens_alone(store):
    # given: a row as it was before the migration (plain text), and one already encrypted
    migration = importlib.import_module("fulfillment.orders.migrations.0006_gift_message_encrypted")
    plain = make_released_order(store=store)
    done = make_released_order(store=store, gift_message=MESSAGE)
    token = _raw("fulfillment_order", done.pk)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE fulfillment_order SET gift_message = %s WHERE id = %s", [MESSAGE, plain.pk])
        cursor.execute(
            "UPDATE fulfillment_orderline SET gift_message = %s WHERE order_id = %s", ["Enjoy!", plain.pk]
        )

    # when: run twice (a rerun after a crash part-way)
    migration.encrypt_plain_text(apps, connection.schema_editor())
    migration.encrypt_plain_text(apps, connection.schema_editor())

    # then
    raw = _raw("fulfillment_order", plain.pk)
    assert raw.startswith("gAAAA") and decrypt_str(raw) == MESSAGE
    assert _raw("fulfillment_order", done.pk) == token
    line = OrderLine.objects.get(order=plain)
    assert _raw("fulfillment_orderline", line.pk) != "Enjoy!" and line.gift_message == "Enjoy!"

    # and back: the reverse migration restores plain text
    migration.decrypt_to_plain_text(apps, connection.schema_editor())
    assert _raw("fulfillment_order", plain.pk) == MESSAGE
    assert encrypt_str("x") != "x"


def test_the_purge_blanks_gift_messages_on_the_order_and_every_line(store, settings):
    # given: a gift order shipped 40 days ago, with two gift lines
    settings.PII_RETENTION_DAYS = 30
    now = timezone.now()
    order = make_released_order(
        store=store,
        status=Order.Status.SHIPPED,
        gift_message=MESSAGE,
        deliver_by_latest=now - dt.timedelta(days=35),
        lines=[("L1", "A", 1, [("W1", 1)]), ("L2", "B", 1, [("W2", 1)])],
    )
    OrderLine.objects.filter(order=order).update(gift_message=MESSAGE)
    shipment = make_shipment(order=order)
    type(shipment).objects.filter(pk=shipment.pk).update(ship_date=now - dt.timedelta(days=40))

    # when
    purged = personal_data_purge(now=now)

    # then: nothing of the message left in any column
    assert purged == 1
    assert _raw("fulfillment_order", order.pk) == ""
    for line in order.lines.all():
        assert _raw("fulfillment_orderline", line.pk) == ""

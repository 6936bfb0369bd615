"""Test connection, re-authorization and connect_store."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from connections.models import Marketplace, Store
from connections.services import store_test_connection
from fulfillment.orders.models import Warehouse
from sandbox.sellers import sandbox_seller_ensure


def test_it_records_a_successful_connection_test(admin_client, store, sandbox_seller):
    # when
    response = admin_client.post(reverse("admin:connections_store_test_connection", args=[store.pk]))

    # then
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.last_connection_test_ok is True
    assert store.last_connection_test_at is not None
    assert "Connected" in store.last_connection_test_message


def test_it_fails_the_test_when_the_seller_is_not_in_the_stores_marketplace(store, sandbox_seller):
    Store.objects.filter(pk=store.pk).update(marketplace=Marketplace.objects.get(code="DE"))
    store.refresh_from_db()

    result = store_test_connection(store=store)

    assert not result.ok
    store.refresh_from_db()
    assert store.last_connection_test_ok is False
    assert "does not sell in" in store.last_connection_test_message


def test_it_marks_a_store_whose_token_amazon_refuses(admin_client, store, sandbox_app):
    # given: the sandbox knows no seller with this refresh token (invalid_grant)
    # when
    admin_client.post(reverse("admin:connections_store_test_connection", args=[store.pk]))

    # then
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.NEEDS_REAUTHORIZATION
    assert store.last_connection_test_ok is False
    assert not Store.objects.connected().filter(pk=store.pk).exists()
    changelist = admin_client.get(
        reverse("admin:connections_store_changelist"), {"authorization_status": "needs_reauthorization"}
    )
    assert store.name in changelist.content.decode()


def test_a_test_of_a_store_never_authorized_does_not_mark_it(store, sandbox_app):
    # given: no token to refuse
    Store.objects.filter(pk=store.pk).update(
        refresh_token="", authorization_status=Store.Authorization.NOT_CONNECTED
    )
    store.refresh_from_db()

    # when
    result = store_test_connection(store=store)

    # then
    assert not result.ok and "no Amazon authorization yet" in result.message
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.NOT_CONNECTED


def test_it_tests_connections_as_an_admin_action(admin_client, store, sandbox_seller):
    admin_client.post(
        reverse("admin:connections_store_changelist"),
        {"action": "test_connection", "_selected_action": [store.pk]},
    )

    store.refresh_from_db()
    assert store.last_connection_test_ok is True


def test_it_connects_a_store_from_the_command_line_twice(sandbox_app):
    # given: a seller selling in the US, holding two refresh tokens
    for token in ("Atzr|cli-token", "Atzr|cli-token-2"):
        sandbox_seller_ensure(selling_partner_id="A1CLI", marketplace_codes=("US",), refresh_token=token)

    # when
    out = io.StringIO()
    call_command(
        "connect_store",
        "--name=Acme CLI",
        "--marketplace=us",
        "--selling-partner-id=A1CLI",
        "--refresh-token=Atzr|cli-token",
        "--warehouse=TX1",
        stdout=out,
    )
    again = io.StringIO()
    call_command(
        "connect_store",
        "--name=Acme CLI",
        "--marketplace=US",
        "--selling-partner-id=A1CLI",
        "--refresh-token=Atzr|cli-token-2",
        stdout=again,
    )

    # then
    assert out.getvalue().count("\n") == 1
    assert "created" in out.getvalue()
    assert "updated" in again.getvalue()
    store = Store.objects.get(name="Acme CLI")
    assert store.is_connected
    assert store.refresh_token == "Atzr|cli-token-2"
    assert Warehouse.objects.filter(code="TX1").count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token FROM connections_store WHERE id = %s", [store.pk])
        assert "cli-token" not in cursor.fetchone()[0]


def test_it_refuses_an_unknown_marketplace_on_the_command_line(db):
    with pytest.raises(CommandError, match="Unknown marketplace"):
        call_command(
            "connect_store", "--name=X", "--marketplace=ZZ", "--selling-partner-id=A", "--refresh-token=t"
        )

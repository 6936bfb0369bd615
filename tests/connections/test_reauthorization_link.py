"""*Send to merchant* on a store already connected asks whether to start a
re-authorization; the link it then sends works, and the store stays connected."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from connections.merchant_links import StoreAlreadyConnected, store_send_authorization_link
from connections.models import MerchantLink, Store
from tests.connections.test_authorization import _consent, emailed_link, open_link


def test_send_to_merchant_on_a_connected_store_asks_instead_of_sending(admin_client, store):
    url = reverse("admin:connections_store_send_link", args=[store.pk])

    page = admin_client.get(url)
    unticked = admin_client.post(url, {"email": "owner@acme.test"})

    assert page.status_code == 200
    assert 'id="already-connected"' in page.content.decode()
    assert "Yes, start a re-authorization" in page.content.decode()
    assert unticked.status_code == 200
    assert "tick the box to start a re-authorization" in unticked.content.decode()
    assert mail.outbox == [] and MerchantLink.objects.count() == 0


def test_a_plain_link_for_a_connected_store_is_refused_by_the_service(store):
    with pytest.raises(StoreAlreadyConnected):
        store_send_authorization_link(store=store, email="owner@acme.test")
    assert mail.outbox == []


def test_a_confirmed_reauthorization_link_works_and_the_store_stays_connected(
    admin_client, store, sandbox_seller
):
    # given: connected; the warehouse confirms the re-authorization
    store.refresh_token = "Atzr|old-token"
    store.save(update_fields=["refresh_token"])
    before = Store.objects.get(pk=store.pk).authorized_at
    response = admin_client.post(
        reverse("admin:connections_store_send_link", args=[store.pk]),
        {"email": "owner@acme.test", "reauthorize": "on"},
    )
    assert response.status_code == 302
    (email,) = mail.outbox
    assert "renew the authorization" in email.body
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.CONNECTED  # jobs keep running
    assert MerchantLink.objects.get().reauthorization is True

    # when: the merchant opens the link and consents with the same account
    merchant = Client()
    callback = _consent(merchant, open_link(merchant, emailed_link(email)), sandbox_seller)
    answer = merchant.get(callback)

    # then: renewed, still connected, no Finalize needed; the link is spent
    assert answer.status_code == 200
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.CONNECTED
    assert store.refresh_token not in ("", "Atzr|old-token")  # the new authorization's token
    assert before is None or store.authorized_at > before
    assert MerchantLink.objects.get().used_at is not None
    assert merchant.get(emailed_link(email)).status_code == 410

"""Both authorization flows end to end through Django's test client against the
sandbox's consent page and LWA, and every refusal case."""

import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from connections.models import OAuthState, Store
from connections.services import store_test_connection
from tests.factories import make_store


@pytest.fixture
def new_store(db, warehouse, us_marketplace) -> Store:
    return make_store(
        name="Acme new",
        warehouse=warehouse,
        marketplace=us_marketplace,
        selling_partner_id="",
        authorization_status=Store.Authorization.NOT_CONNECTED,
        refresh_token="",
    )


def _consent(client: Client, consent_url: str, seller, *, deny: bool = False):
    """What a seller does on Amazon's consent page: look, then confirm (or deny)."""
    page = client.get(consent_url)
    assert page.status_code == 200
    form = {k: v[0] for k, v in parse_qs(urlsplit(consent_url).query).items()}
    form.update(re.findall(r'name="(csrfmiddlewaretoken)" value="([^"]+)"', page.content.decode()))
    form.update({"deny": "1"} if deny else {"seller": str(seller.pk), "confirm": "1"})
    answer = client.post(urlsplit(consent_url).path, form)
    assert answer.status_code == 302
    return answer["Location"]


def _snapshot(store: Store) -> tuple:
    store.refresh_from_db()
    return (store.selling_partner_id, store.refresh_token, store.authorization_status, store.authorized_at)


def _start_self_flow(client: Client, store: Store) -> str:
    response = client.get(reverse("connections:store_authorize", args=[store.pk]))
    assert response.status_code == 302
    return response["Location"]


def test_it_connects_a_store_through_the_consent_page(admin_client, new_store, sandbox_seller, caplog):
    # given
    caplog.set_level(logging.DEBUG)

    # when: "Authorize" -> Amazon's consent page -> confirm -> our callback
    consent_url = _start_self_flow(admin_client, new_store)
    callback_url = _consent(admin_client, consent_url, sandbox_seller)
    response = admin_client.get(callback_url)

    # then
    assert consent_url.startswith("http://testserver/sandbox/apps/authorize/consent?")
    query = parse_qs(urlsplit(consent_url).query)
    assert query["application_id"] == ["amzn1.sp.solution.sandbox"]
    assert query["redirect_uri"] == ["http://testserver/connections/oauth/callback/"]
    assert callback_url.startswith("http://testserver/connections/oauth/callback/?")
    assert response.status_code == 200
    assert b"is connected to Amazon" in response.content
    new_store.refresh_from_db()
    assert new_store.authorization_status == Store.Authorization.CONNECTED
    assert new_store.selling_partner_id == "A1ACMESELLER"
    assert new_store.refresh_token.startswith("Atzr|")
    assert new_store.authorized_at is not None
    assert new_store.refresh_token not in caplog.text
    # and the token Amazon gave works
    assert store_test_connection(store=new_store).ok


def test_it_sends_version_beta_for_a_draft_app(admin_client, new_store, settings):
    settings.SP_API_APP_IS_DRAFT = True

    consent_url = _start_self_flow(admin_client, new_store)

    assert parse_qs(urlsplit(consent_url).query)["version"] == ["beta"]


def emailed_link(email) -> str:
    return next(line for line in email.body.splitlines() if "/connections/authorize/" in line).strip()


def open_link(browser: Client, link: str) -> str:
    """What a merchant does with the emailed link: open it, read, press Continue."""
    page = browser.get(link)
    assert page.status_code == 200, page.content
    assert b"Continue to Amazon" in page.content
    form = dict(re.findall(r'name="(csrfmiddlewaretoken|token)" value="([^"]+)"', page.content.decode()))
    started = browser.post(urlsplit(link).path, form)
    assert started.status_code == 302, started.content
    return started["Location"]


def test_it_connects_a_store_through_the_link_sent_to_the_merchant(admin_client, new_store, sandbox_seller):
    # given: the warehouse sends the link
    response = admin_client.post(
        reverse("admin:connections_store_send_link", args=[new_store.pk]), {"email": "owner@acme.test"}
    )
    assert response.status_code == 302
    (email,) = mail.outbox
    assert email.to == ["owner@acme.test"]
    link = emailed_link(email)
    new_store.refresh_from_db()
    assert new_store.authorization_status == Store.Authorization.AWAITING_MERCHANT

    # when: the merchant, in its own browser and not logged in, authorizes
    merchant = Client(enforce_csrf_checks=True)
    callback = merchant.get(_consent(merchant, open_link(merchant, link), sandbox_seller))

    # then: it waits for the warehouse
    assert callback.status_code == 200
    new_store.refresh_from_db()
    assert new_store.authorization_status == Store.Authorization.AUTHORIZED_BY_MERCHANT
    assert new_store.refresh_token.startswith("Atzr|")
    assert not Store.objects.connected().filter(pk=new_store.pk).exists()

    # when: the warehouse finalizes
    admin_client.post(reverse("admin:connections_store_finalize", args=[new_store.pk]))

    # then
    new_store.refresh_from_db()
    assert new_store.authorization_status == Store.Authorization.CONNECTED
    assert new_store.authorized_at is not None
    assert new_store.last_connection_test_ok is True


def test_it_refuses_a_tampered_merchant_link(client, new_store):
    response = client.get(reverse("connections:merchant_link"), {"token": "not-a-link-we-sent"})
    started = client.post(reverse("connections:merchant_link"), {"token": "not-a-link-we-sent"})

    assert response.status_code == 400
    assert started.status_code == 400
    assert OAuthState.objects.count() == 0


# --- Refusals: each gets a clear 400 page and changes nothing ----------------------


def test_it_refuses_a_tampered_state(admin_client, new_store, sandbox_seller):
    # given
    callback_url = _consent(admin_client, _start_self_flow(admin_client, new_store), sandbox_seller)
    before = _snapshot(new_store)

    # when
    response = admin_client.get(callback_url.replace("state=", "state=x"))

    # then
    assert response.status_code == 400
    assert b"does not match" in response.content
    assert _snapshot(new_store) == before


def test_it_refuses_a_state_from_another_browser(admin_client, new_store, sandbox_seller):
    # given: an attacker's own consent answer, replayed into the admin's browser
    callback_url = _consent(admin_client, _start_self_flow(admin_client, new_store), sandbox_seller)
    before = _snapshot(new_store)

    # when
    response = Client().get(callback_url)

    # then
    assert response.status_code == 400
    assert b"another browser" in response.content
    assert _snapshot(new_store) == before


def test_it_refuses_a_reused_state(admin_client, new_store, sandbox_seller, warehouse, us_marketplace):
    # given: a completed authorization, then the store is reset
    consent_url = _start_self_flow(admin_client, new_store)
    callback_url = _consent(admin_client, consent_url, sandbox_seller)
    assert admin_client.get(callback_url).status_code == 200
    Store.objects.filter(pk=new_store.pk).update(
        selling_partner_id="", refresh_token="", authorization_status=Store.Authorization.NOT_CONNECTED
    )
    before = _snapshot(new_store)
    # the same browser session still carries a nonce, as a fresh attempt would
    session = admin_client.session
    session["connections_oauth_nonce"] = OAuthState.objects.get().nonce
    session.save()

    # when
    response = admin_client.get(callback_url)

    # then
    assert response.status_code == 400
    assert b"already used" in response.content
    assert _snapshot(new_store) == before


def test_it_refuses_an_expired_state(admin_client, new_store, sandbox_seller):
    # given
    callback_url = _consent(admin_client, _start_self_flow(admin_client, new_store), sandbox_seller)
    OAuthState.objects.update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    before = _snapshot(new_store)

    # when
    response = admin_client.get(callback_url)

    # then
    assert response.status_code == 400
    assert b"expired" in response.content
    assert _snapshot(new_store) == before


def test_it_refuses_a_state_whose_signature_expired(admin_client, new_store, sandbox_seller, settings):
    callback_url = _consent(admin_client, _start_self_flow(admin_client, new_store), sandbox_seller)
    settings.OAUTH_STATE_MAX_AGE_SECONDS = -1  # as if the seller took longer than allowed
    before = _snapshot(new_store)

    response = admin_client.get(callback_url)

    assert response.status_code == 400
    assert b"expired" in response.content
    assert _snapshot(new_store) == before


def test_it_refuses_when_the_seller_denies(admin_client, new_store, sandbox_seller):
    # given
    callback_url = _consent(
        admin_client, _start_self_flow(admin_client, new_store), sandbox_seller, deny=True
    )
    before = _snapshot(new_store)

    # when
    response = admin_client.get(callback_url)

    # then
    assert "error=access_denied" in callback_url
    assert response.status_code == 400
    assert b"access_denied" in response.content
    assert _snapshot(new_store) == before
    # the denied state is spent: it cannot be replayed with a forged code
    assert OAuthState.objects.get().consumed_at is not None


def test_it_refuses_a_seller_already_connected_in_the_marketplace(
    admin_client, store, new_store, sandbox_seller
):
    # given: `store` is A1ACMESELLER in US already
    callback_url = _consent(admin_client, _start_self_flow(admin_client, new_store), sandbox_seller)
    before = _snapshot(new_store)

    # when
    response = admin_client.get(callback_url)

    # then
    assert response.status_code == 400
    assert b"already connected" in response.content
    assert "Acme US" in response.content.decode()
    assert _snapshot(new_store) == before


def test_it_refuses_a_different_seller_for_a_connected_store(
    admin_client, sandbox_seller, warehouse, us_marketplace
):
    # given
    other = make_store(warehouse=warehouse, marketplace=us_marketplace, selling_partner_id="A9OTHER")
    callback_url = _consent(admin_client, _start_self_flow(admin_client, other), sandbox_seller)
    before = _snapshot(other)

    # when
    response = admin_client.get(callback_url)

    # then
    assert response.status_code == 400
    assert _snapshot(other) == before


def test_it_refuses_a_callback_without_state(client):
    response = client.get(
        reverse("connections:oauth_callback"), {"spapi_oauth_code": "x", "selling_partner_id": "A"}
    )

    assert response.status_code == 400


def test_it_keeps_the_refresh_token_encrypted_in_the_database(admin_client, new_store, sandbox_seller):
    # given
    admin_client.get(_consent(admin_client, _start_self_flow(admin_client, new_store), sandbox_seller))

    # when
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token FROM connections_store WHERE id = %s", [new_store.pk])
        (stored,) = cursor.fetchone()

    # then
    new_store.refresh_from_db()
    assert new_store.refresh_token.startswith("Atzr|")
    assert stored
    assert new_store.refresh_token not in stored
    assert "Atzr" not in stored


def test_a_stray_callback_does_not_cancel_the_pending_consent(
    admin_client, new_store, sandbox_seller, warehouse, us_marketplace
):
    """Issue 16 item 9: an old tab, another store's answer or a forged link arriving
    in the same browser is refused, and the consent in progress still completes."""
    # given: an earlier consent answered (its state spent), and a new consent pending
    other = make_store(
        name="Other",
        warehouse=warehouse,
        marketplace=us_marketplace,
        selling_partner_id="",
        authorization_status=Store.Authorization.NOT_CONNECTED,
        refresh_token="",
    )
    stale = _consent(admin_client, _start_self_flow(admin_client, other), sandbox_seller)  # an old tab
    pending = _consent(admin_client, _start_self_flow(admin_client, new_store), sandbox_seller)
    state = parse_qs(urlsplit(pending).query)["state"][0]
    strays = [
        stale,  # an earlier consent's answer: genuine, but not the one pending
        reverse("connections:oauth_callback") + "?state=forged&spapi_oauth_code=x&selling_partner_id=A",
        reverse("connections:oauth_callback") + "?error=access_denied&state=forged",
        reverse("connections:oauth_callback") + "?spapi_oauth_code=x&selling_partner_id=A",
    ]

    # when: each stray arrives first
    answers = [admin_client.get(url) for url in strays]

    # then: each is refused, the pending consent is untouched and completes
    assert [a.status_code for a in answers] == [400, 400, 400, 400]
    assert OAuthState.objects.get(store=new_store).consumed_at is None
    assert parse_qs(urlsplit(pending).query)["state"][0] == state
    done = admin_client.get(pending)
    assert done.status_code == 200, done.content
    new_store.refresh_from_db()
    assert new_store.authorization_status == Store.Authorization.CONNECTED
    # and the answer it was waiting for ends it: replayed, it is refused
    assert "connections_oauth_nonce" not in admin_client.session
    assert admin_client.get(pending).status_code == 400

"""The SP-API client's plumbing against a scripted Amazon (tests/connections/fake_amazon.py)."""

import gzip
import logging

import httpx
import pytest
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from connections.amazon import (
    AmazonClient,
    CallStats,
    PermanentAmazonError,
    ReauthorizationRequired,
    TransientAmazonError,
    amazon_client,
    authorization_code_exchange,
)
from connections.models import RateLimitBucket, Store
from tests.connections.fake_amazon import json_reply

SEARCH = "/orders/2026-01-01/orders"


def test_it_sends_search_orders_to_the_configured_endpoint_with_a_correct_host(
    db, store, fake_amazon, no_sleep
):
    # given
    fake_amazon.script(SEARCH, json_reply(200, {"orders": [{"orderId": "111-1"}], "pagination": {}}))

    # when
    body = amazon_client(store).search_orders(lastUpdatedAfter="2026-01-01T00:00:00Z")

    # then
    assert body["orders"] == [{"orderId": "111-1"}]
    (request,) = fake_amazon.api_requests()
    assert request.url.path == "/spapi/orders/2026-01-01/orders"
    assert request.url.params["marketplaceIds"] == "ATVPDKIKX0DER"
    assert request.headers["host"] == "amazon.test"
    assert request.headers["x-amz-access-token"] == "Atza|fake-access"
    lwa = fake_amazon.requests[0]
    assert lwa.url.path == "/lwa/token"
    assert b"refresh_token=Atzr%7Cacme-refresh-token" in lwa.content


def test_it_retries_a_429_and_counts_it_without_raising(db, store, fake_amazon, no_sleep):
    # given
    throttled = json_reply(
        429,
        {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]},
        **{"x-amzn-RateLimit-Limit": "0.5"},
    )
    fake_amazon.script(SEARCH, throttled, json_reply(200, {"orders": []}))
    stats = CallStats()

    # when
    body = AmazonClient(store, stats=stats).search_orders()

    # then
    assert body == {"orders": []}
    assert stats == CallStats(api_calls=2, throttled=1)
    bucket = RateLimitBucket.objects.get(operation="searchOrders")
    assert bucket.rate == 0.5
    assert no_sleep, "backed off before retrying"


def test_it_treats_an_html_503_as_transient_and_gives_up_after_bounded_attempts(
    db, store, fake_amazon, no_sleep, settings
):
    # given: sp_api turns this into an empty ApiResponse, not an exception
    settings.SP_API_MAX_ATTEMPTS = 3
    html = httpx.Response(
        503, content=b"<html>Service Unavailable</html>", headers={"content-type": "text/html"}
    )
    fake_amazon.script(SEARCH, html, html, html, html)

    # when / then
    with pytest.raises(TransientAmazonError) as excinfo:
        amazon_client(store).search_orders()
    assert excinfo.value.status == 503
    assert len(fake_amazon.api_requests()) == 3


def test_it_treats_an_empty_200_body_as_transient(db, store, fake_amazon, no_sleep, settings):
    settings.SP_API_MAX_ATTEMPTS = 1
    fake_amazon.script(SEARCH, httpx.Response(200, content=b""))

    with pytest.raises(TransientAmazonError):
        amazon_client(store).search_orders()


def test_it_retries_timeouts_and_dropped_connections(db, store, fake_amazon, no_sleep):
    fake_amazon.script(
        SEARCH,
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        json_reply(200, {"orders": []}),
    )

    assert amazon_client(store).search_orders() == {"orders": []}
    assert len(fake_amazon.api_requests()) == 3


def test_it_raises_a_permanent_error_with_amazons_errors_on_400(db, store, fake_amazon, no_sleep):
    # given
    errors = [{"code": "InvalidInput", "message": "carrierCode is invalid", "details": "x"}]
    fake_amazon.script("/orders/v0/orders/111-1/shipmentConfirmation", json_reply(400, {"errors": errors}))

    # when
    with pytest.raises(PermanentAmazonError) as excinfo:
        amazon_client(store).confirm_shipment("111-1", body={"marketplaceId": "ATVPDKIKX0DER"})

    # then: not retried
    assert excinfo.value.status == 400
    assert excinfo.value.code == "InvalidInput"
    assert excinfo.value.errors == errors
    assert len(fake_amazon.api_requests()) == 1


def test_it_confirms_a_shipment_answered_with_204(db, store, fake_amazon, no_sleep):
    fake_amazon.script("/orders/v0/orders/111-1/shipmentConfirmation", httpx.Response(204))

    assert amazon_client(store).confirm_shipment("111-1", body={"packageDetail": {}}) is None
    (request,) = fake_amazon.api_requests()
    assert request.method == "POST"
    assert b'"packageDetail"' in request.content


def test_on_invalid_grant_it_raises_writes_nothing_about_the_store_and_never_logs_the_token(
    db, store, fake_amazon, no_sleep, caplog
):
    # given
    caplog.set_level(logging.DEBUG)
    fake_amazon.lwa_replies.append(
        json_reply(400, {"error": "invalid_grant", "error_description": "The request has an invalid grant"})
    )
    saved = []
    post_save.connect(saved.append, sender=Store, weak=False, dispatch_uid="adapter-test")

    # when
    try:
        with CaptureQueriesContext(connection) as queries, pytest.raises(ReauthorizationRequired) as excinfo:
            amazon_client(store).search_orders()
    finally:
        post_save.disconnect(sender=Store, dispatch_uid="adapter-test")

    # then: the caller records it (connections.services); the adapter only raised
    store_table = f'"{Store._meta.db_table}"'
    writes = [q["sql"] for q in queries if store_table in q["sql"] and not q["sql"].startswith("SELECT")]
    assert writes == [] and saved == []
    assert store.authorization_status == Store.Authorization.CONNECTED
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.CONNECTED
    assert excinfo.value.token_refused
    assert "Atzr|acme-refresh-token" not in str(excinfo.value)
    assert "acme-refresh-token" not in caplog.text
    assert fake_amazon.api_requests() == []


def test_it_treats_an_lwa_outage_as_transient(db, store, fake_amazon, no_sleep, settings):
    settings.SP_API_MAX_ATTEMPTS = 2
    outage = httpx.Response(502, content=b"<html>Bad gateway</html>")
    fake_amazon.lwa_replies.extend([outage, outage])

    with pytest.raises(TransientAmazonError):
        amazon_client(store).search_orders()
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.CONNECTED


def test_it_uploads_feed_documents_as_utf8_bytes(db, store, fake_amazon, no_sleep):
    # given
    fake_amazon.script(
        "/feeds/2021-06-30/documents",
        json_reply(200, {"feedDocumentId": "doc-1", "url": "http://amazon.test/upload/doc-1"}),
    )
    client = amazon_client(store)

    # when
    document = client.create_feed_document(content_type="application/json; charset=UTF-8")
    client.upload_feed_document(
        url=document["url"],
        content='{"sku": "Crème brûlée"}'.encode(),
        content_type="application/json; charset=UTF-8",
    )

    # then
    create, upload = fake_amazon.requests[1:]
    assert b'"contentType": "application/json; charset=UTF-8"' in create.content
    assert upload.method == "PUT"
    assert upload.content == '{"sku": "Crème brûlée"}'.encode()
    assert upload.headers["content-type"] == "application/json; charset=UTF-8"


def test_it_downloads_and_gunzips_a_feed_document(db, store, fake_amazon, no_sleep):
    fake_amazon.script(
        "/feeds/2021-06-30/documents/doc-9",
        json_reply(
            200,
            {"feedDocumentId": "doc-9", "url": "http://amazon.test/dl/doc-9", "compressionAlgorithm": "GZIP"},
        ),
    )
    # the download URL is pre-signed, outside the SP-API path
    original = fake_amazon.handle

    def handle(request):
        if request.url.path == "/dl/doc-9":
            fake_amazon.requests.append(request)
            return httpx.Response(200, content=gzip.compress(b'{"ok": 1}'))
        return original(request)

    fake_amazon.handle = handle

    assert amazon_client(store).get_feed_document("doc-9") == b'{"ok": 1}'


def test_it_refuses_a_store_without_authorization_before_calling(db, store, fake_amazon, no_sleep):
    Store.objects.filter(pk=store.pk).update(refresh_token="")
    store.refresh_from_db()

    with pytest.raises(ReauthorizationRequired) as excinfo:
        amazon_client(store).get_marketplace_participations()
    assert fake_amazon.requests == []
    assert not excinfo.value.token_refused  # nothing was refused: there is no token yet


def test_it_exchanges_an_authorization_code_with_the_redirect_uri(db, fake_amazon):
    # given
    fake_amazon.lwa_replies.append(
        json_reply(200, {"access_token": "Atza|x", "refresh_token": "Atzr|new", "token_type": "bearer"})
    )

    # when
    token = authorization_code_exchange(
        code="ANcode", redirect_uri="http://testserver/connections/oauth/callback/"
    )

    # then
    assert token == "Atzr|new"
    body = fake_amazon.requests[0].content.decode()
    assert "grant_type=authorization_code" in body
    assert "code=ANcode" in body
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Fconnections%2Foauth%2Fcallback%2F" in body


def test_it_reports_a_spent_authorization_code_as_permanent(db, fake_amazon):
    fake_amazon.lwa_replies.append(json_reply(400, {"error": "invalid_grant", "error_description": "used"}))

    with pytest.raises(PermanentAmazonError) as excinfo:
        authorization_code_exchange(code="old", redirect_uri="http://testserver/cb/")
    assert not isinstance(excinfo.value, ReauthorizationRequired)

"""AmazonClient: the SP-API operations jobs and views call, one store at a time.

Every call goes through `AmazonClient._call`, which:
- waits on the shared rate limiter (connections.ratelimit) before each attempt,
- builds a fresh sp_api client for the attempt (clients.build: a restricted
  data token left on a client by a failed call must not leak into the next one),
- follows `x-amzn-RateLimit-Limit`, retries 429/5xx/timeouts with exponential
  backoff and full jitter (bounded attempts and total wait),
- turns sp_api/httpx/LWA failures into our Transient/Permanent errors.

It only talks to Amazon: a refused authorization is raised as
ReauthorizationRequired, and the caller records it on the store.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base.credential_provider import MissingCredentials
from sp_api.base.exceptions import SellingApiException, SellingApiRequestThrottledException

from .. import ratelimit
from ..models import Store
from . import clients
from .clients import (
    ClientT,
    FeedsApi,
    ListingsItemsApi,
    NotificationsApi,
    OrdersApi,
    OrdersV0Api,
    SellersApi,
)
from .errors import (
    NOT_AUTHORIZED,
    AmazonError,
    PermanentAmazonError,
    ReauthorizationRequired,
    TransientAmazonError,
    api_error,
    lwa_error,
    raw_response_error,
)

logger = logging.getLogger(__name__)

RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"
# searchListingsItems: at most 20 identifiers and 20 items a page (the model's maxItems / maximum).
SEARCH_LISTINGS_MAX_IDENTIFIERS = 20
# 20 SKUs cannot need more pages than this even one item a page; more means a loop.
SEARCH_LISTINGS_MAX_PAGES = 25
ORDER_CHANGE = "ORDER_CHANGE"
ORDER_CHANGE_PAYLOAD_VERSION = "1.0"
_BACKOFF_BASE_SECONDS = 1.0
_BACKOFF_CAP_SECONDS = 30.0


@dataclass
class CallStats:
    """Passed in by jobs to count what a run did."""

    api_calls: int = 0
    throttled: int = 0  # 429s met (and absorbed) along the way


# --- The client every job uses --------------------------------------------------


class AmazonClient:
    """SP-API operations for one store, rate limited, retried and classified."""

    def __init__(
        self,
        store: Store,
        *,
        stats: CallStats | None = None,
        timeout: float | None = None,
        max_attempts: int | None = None,
        max_rate_wait: float | None = None,
    ) -> None:
        self.store = store
        self.stats = stats if stats is not None else CallStats()
        self.timeout = timeout or settings.SP_API_TIMEOUT
        self.max_attempts = max(1, max_attempts or settings.SP_API_MAX_ATTEMPTS)
        # None: wait as long as the bucket says (jobs); a number: give up
        # sooner with a transient error (a person is waiting).
        self.max_rate_wait = max_rate_wait
        # HTTP status of the last successful call: queues record it with the
        # attempt (a failed call carries its own, AmazonError.status).
        self.last_status: int | None = None

    # -- orders

    def search_orders(self, **params: Any) -> dict:
        params.setdefault("marketplaceIds", [self.store.marketplace.marketplace_id])
        response = self._call("searchOrders", OrdersApi, lambda c: c.search_orders(**params))
        # sp_api's ApiResponse moves `pagination` out of the body into its own
        # attribute; the caller needs the body as Amazon sent it to page on.
        body = dict(response.payload or {})
        if response.pagination:
            body["pagination"] = response.pagination
        return body

    def get_order(self, order_id: str, *, included_data: Sequence[str] = ()) -> dict:
        params: dict[str, Any] = {}
        if included_data:
            params["includedData"] = list(included_data)
        response = self._call("getOrder", OrdersApi, lambda c: c.get_order(order_id, **params))
        return response.payload

    def confirm_shipment(self, order_id: str, *, body: dict) -> None:
        self._call(
            "confirmShipment",
            OrdersV0Api,
            lambda c: c.confirm_shipment(order_id, **body),
            expect_body=False,
        )

    # -- sellers

    def get_marketplace_participations(self) -> list[dict]:
        response = self._call(
            "getMarketplaceParticipations", SellersApi, lambda c: c.get_marketplace_participation()
        )
        payload = response.payload
        if isinstance(payload, dict):
            payload = payload.get("payload", [])
        if not isinstance(payload, list):
            raise PermanentAmazonError("getMarketplaceParticipations answered without a list.")
        return payload

    # -- feeds

    def create_feed_document(self, *, content_type: str) -> dict:
        response = self._call(
            "createFeedDocument", FeedsApi, lambda c: c.create_feed_document(None, content_type)
        )
        return response.payload

    def upload_feed_document(self, *, url: str, content: bytes, content_type: str) -> None:
        """PUT the document to Amazon's pre-signed URL as bytes.

        sp_api would encode a str as Latin-1; we take bytes (UTF-8 for JSON
        feeds, with `application/json; charset=UTF-8`)."""
        if isinstance(content, str):  # a caller's slip must not become Latin-1
            content = content.encode("utf-8")

        def put() -> httpx.Response:
            with httpx.Client(timeout=self.timeout) as http:
                return http.put(url, content=content, headers={"Content-Type": content_type})

        self._transfer("uploadFeedDocument", put)

    def create_feed(
        self,
        *,
        feed_type: str,
        input_feed_document_id: str,
        marketplace_ids: Sequence[str] | None = None,
    ) -> str:
        ids = list(marketplace_ids or [self.store.marketplace.marketplace_id])
        response = self._call(
            "createFeed",
            FeedsApi,
            lambda c: c.create_feed(feed_type, input_feed_document_id, marketplaceIds=ids),
        )
        feed_id = response.payload.get("feedId")
        if not feed_id:
            raise PermanentAmazonError("createFeed answered without a feedId.")
        return str(feed_id)

    def get_feed(self, feed_id: str) -> dict:
        return self._call("getFeed", FeedsApi, lambda c: c.get_feed(feed_id)).payload

    def get_feed_document(self, feed_document_id: str) -> bytes:
        # sp_api's own helper decodes to str with a guessed charset; we want
        # the bytes, so ask for the document's metadata and download it here.
        document = self._call(
            "getFeedDocument",
            FeedsApi,
            lambda c: c._request(
                f"/feeds/2021-06-30/documents/{feed_document_id}", params={}, add_marketplace=False
            ),
        ).payload
        url = document.get("url")
        if not url:
            raise PermanentAmazonError("getFeedDocument answered without a url.")

        def get() -> httpx.Response:
            with httpx.Client(timeout=self.timeout) as http:
                return http.get(url)

        content = self._transfer("downloadFeedDocument", get).content
        if document.get("compressionAlgorithm") == "GZIP":
            try:
                content = gzip.decompress(content)
            except (OSError, zlib.error) as exc:
                raise PermanentAmazonError("The feed document is not valid GZIP.") from exc
        return content

    # -- listings

    def get_listings_item(
        self, sku: str, *, included_data: Sequence[str] = ("fulfillmentAvailability",)
    ) -> dict:
        params = {
            "marketplaceIds": self.store.marketplace.marketplace_id,
            "includedData": ",".join(included_data),
        }
        return self._call(
            "getListingsItem",
            ListingsItemsApi,
            lambda c: c.get_listings_item(self._seller_id(), sku, **params),
        ).payload

    def search_listings_items_by_sku(
        self, skus: Sequence[str], *, included_data: Sequence[str] = ("fulfillmentAvailability",)
    ) -> list[dict]:
        """The listings items of up to 20 SKUs (searchListingsItems, identifiersType SKU).

        SKUs Amazon does not know are simply absent. Every page is read
        (`pageSize` 20 should make it one; Amazon may serve fewer).
        """
        if not skus or len(skus) > SEARCH_LISTINGS_MAX_IDENTIFIERS:
            raise ValueError(f"1 to {SEARCH_LISTINGS_MAX_IDENTIFIERS} SKUs per search, not {len(skus)}.")
        if any("," in sku for sku in skus):
            # identifiers is a comma-delimited list: such a SKU cannot be searched for.
            raise ValueError("A SKU with a comma cannot be searched for; read it with get_listings_item.")
        params: dict[str, Any] = {
            "marketplaceIds": self.store.marketplace.marketplace_id,
            "identifiers": ",".join(skus),
            "identifiersType": "SKU",
            "includedData": ",".join(included_data),
            "pageSize": SEARCH_LISTINGS_MAX_IDENTIFIERS,
        }
        items: list[dict] = []
        for _ in range(SEARCH_LISTINGS_MAX_PAGES):
            response = self._call(
                "searchListingsItems",
                ListingsItemsApi,
                lambda c, p=dict(params): c.search_listings_items(self._seller_id(), **p),
            )
            body = response.payload if isinstance(response.payload, dict) else {}
            page = body.get("items")
            if not isinstance(page, list):
                raise TransientAmazonError("searchListingsItems answered without items.")
            items += [item for item in page if isinstance(item, dict)]
            # sp_api moves `pagination` out of the body into its own attribute.
            next_token = (response.pagination or body.get("pagination") or {}).get("nextToken")
            if not next_token:
                return items
            params["pageToken"] = next_token
        raise PermanentAmazonError("searchListingsItems kept answering with a nextToken.")

    def patch_listings_item(self, sku: str, *, body: dict) -> dict:
        return self._call(
            "patchListingsItem",
            ListingsItemsApi,
            lambda c: c.patch_listings_item(
                self._seller_id(), sku, body=body, marketplaceIds=self.store.marketplace.marketplace_id
            ),
        ).payload

    # -- notifications (Notifications API v1; grantless ones use the application's token)

    def create_destination(self, *, name: str, sqs_arn: str) -> dict:
        """createDestination (grantless): the application's SQS queue, once per application."""
        body = {"name": name, "resourceSpecification": {"sqs": {"arn": sqs_arn}}}
        return self._notifications("createDestination", "POST", "/notifications/v1/destinations", body=body)

    def get_destinations(self) -> list[dict]:
        """getDestinations (grantless): the application's destinations."""
        payload = self._notifications("getDestinations", "GET", "/notifications/v1/destinations")
        return [d for d in (payload or []) if isinstance(d, dict)] if isinstance(payload, list) else []

    def create_order_change_subscription(
        self, *, destination_id: str, order_change_types: Sequence[str] = ()
    ) -> dict:
        """createSubscription for ORDER_CHANGE, filtered on the store's marketplace (the seller's token)."""
        event_filter: dict[str, Any] = {
            "eventFilterType": ORDER_CHANGE,
            "marketplaceIds": [self.store.marketplace.marketplace_id],
        }
        if order_change_types:
            event_filter["orderChangeTypes"] = list(order_change_types)
        body = {
            "payloadVersion": ORDER_CHANGE_PAYLOAD_VERSION,
            "destinationId": destination_id,
            "processingDirective": {"eventFilter": event_filter},
        }
        return self._notifications(
            "createSubscription",
            "POST",
            f"/notifications/v1/subscriptions/{ORDER_CHANGE}",
            body=body,
            grantless=False,
        )

    def get_order_change_subscription(self) -> dict | None:
        """getSubscription for ORDER_CHANGE (the seller's token); None when there is none."""
        try:
            return self._notifications(
                "getSubscription", "GET", f"/notifications/v1/subscriptions/{ORDER_CHANGE}", grantless=False
            )
        except PermanentAmazonError as exc:
            if exc.status == 404:
                return None
            raise

    def delete_subscription(self, subscription_id: str) -> None:
        """deleteSubscriptionById (grantless); one already gone counts as deleted."""
        try:
            self._notifications(
                "deleteSubscriptionById",
                "DELETE",
                f"/notifications/v1/subscriptions/{ORDER_CHANGE}/{subscription_id}",
                expect_body=False,
            )
        except PermanentAmazonError as exc:
            if exc.status != 404:
                raise

    def send_test_notification(self, *, destination_id: str) -> None:
        """sendTestNotification (grantless): a mock ORDER_CHANGE to our queue.

        The model marks it sandbox-only: Amazon's production endpoints may refuse it."""
        body = {
            "destinationId": destination_id,
            "testNotification": {
                "payloadVersion": ORDER_CHANGE_PAYLOAD_VERSION,
                "testScenario": "OrderStatusChange",
            },
        }
        self._notifications(
            "sendTestNotification",
            "POST",
            f"/notifications/v1/subscriptions/{ORDER_CHANGE}/testNotification",
            body=body,
            expect_body=False,
        )

    def _notifications(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: dict | None = None,
        grantless: bool = True,
        expect_body: bool = True,
    ):
        response = self._call(
            operation,
            NotificationsApi,
            lambda c: c.send(method, path, body=body, grantless=grantless),
            expect_body=expect_body,
            grantless=grantless,
        )
        return response.payload

    # -- the machinery

    def _seller_id(self) -> str:
        if not self.store.selling_partner_id:
            raise PermanentAmazonError("The store has no selling partner id; authorize it first.")
        return self.store.selling_partner_id

    def _bucket(self, operation: str, *, grantless: bool = False) -> ratelimit.BucketKey:
        # Grantless operations are the application's own, not a seller's.
        caller = "application" if grantless else self.store.selling_partner_id or f"store-{self.store.pk}"
        return ratelimit.BucketKey(
            selling_partner_id=caller,
            region=self.store.marketplace.region,
            operation=operation,
        )

    def _wait_for_slot(self, bucket: ratelimit.BucketKey) -> None:
        try:
            ratelimit.acquire(bucket, max_wait=self.max_rate_wait)
        except ratelimit.RateLimitWaitTooLong as exc:
            raise TransientAmazonError(
                f"Amazon's rate limit for {bucket.operation} allows the next call in {exc.wait:.0f} s.",
                code="QuotaExceeded",
            ) from exc

    def _backoff(self, attempt: int, waited: float) -> float | None:
        """Sleep before the next attempt; None when attempts or wait budget ran out."""
        if attempt >= self.max_attempts:
            return None
        delay = random.uniform(0, min(_BACKOFF_CAP_SECONDS, _BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)))
        delay /= ratelimit.time_scale()
        if waited + delay > settings.SP_API_MAX_RETRY_WAIT:
            return None
        ratelimit.sleep(delay)
        return delay

    def _call(
        self,
        operation: str,
        cls: type[ClientT],
        fn: Callable[[ClientT], Any],
        *,
        expect_body: bool = True,
        grantless: bool = False,
    ):
        if not grantless and not self.store.refresh_token:
            raise ReauthorizationRequired("The store has no Amazon authorization yet.", code=NOT_AUTHORIZED)
        bucket = self._bucket(operation, grantless=grantless)
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            error = self._attempt(operation, bucket, cls, fn, expect_body=expect_body, grantless=grantless)
            if not isinstance(error, AmazonError):
                return error
            if isinstance(error, PermanentAmazonError):  # ReauthorizationRequired among them
                raise error
            delay = self._backoff(attempt, waited)
            if delay is None:
                raise error
            waited += delay
            logger.info(
                "SP-API %s for store %s: %s; retry %d after %.1f s",
                operation,
                self.store.pk,
                error,
                attempt,
                delay,
            )

    def _attempt(self, operation, bucket, cls, fn, *, expect_body: bool, grantless: bool = False):
        """One call; returns the ApiResponse, or the AmazonError to act on."""
        try:
            client = clients.build(cls, self.store, timeout=self.timeout)
        except MissingCredentials as exc:
            del exc  # its text names the settings file sp_api looked for, not ours
            return PermanentAmazonError("LWA_CLIENT_ID / LWA_CLIENT_SECRET are not configured.")
        try:
            try:
                # The access token first (cached per process): a slot taken
                # before a slow LWA round trip would reach Amazon late, after
                # our bucket had already counted that time as refill.
                client.grantless_auth if grantless else client.auth  # noqa: B018
                self._wait_for_slot(bucket)
                self.stats.api_calls += 1
                response = fn(client)
            except SellingApiRequestThrottledException as exc:
                self._throttled(bucket, exc.headers)
                return api_error(exc, 429)
            except SellingApiException as exc:
                raw = client._transport.last_response
                return api_error(exc, raw.status_code if raw is not None else None)
            except AuthorizationError as exc:
                return lwa_error(exc)
            except httpx.TimeoutException:
                return TransientAmazonError(
                    f"{operation} timed out after {self.timeout:.0f} s.", code="timeout"
                )
            except httpx.TransportError as exc:
                return TransientAmazonError(f"{operation}: connection failed ({type(exc).__name__}).")
            except json.JSONDecodeError:
                return TransientAmazonError(f"{operation}: Amazon's answer did not parse.")
            raw = client._transport.last_response
            self.last_status = raw.status_code if raw is not None else None
            if raw is not None:
                ratelimit.observe_rate(bucket, raw.headers.get(RATE_LIMIT_HEADER))
                if raw.status_code == 429:
                    self._throttled(bucket, raw.headers)
            problem = raw_response_error(raw, expect_body=expect_body)
            return problem or response
        finally:
            client.close()

    def _throttled(self, bucket: ratelimit.BucketKey, headers) -> None:
        self.stats.throttled += 1
        ratelimit.observe_rate(bucket, (headers or {}).get(RATE_LIMIT_HEADER))
        ratelimit.observe_throttled(bucket)

    def _transfer(self, what: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        """Feed document up/downloads: pre-signed URLs, not SP-API operations,
        so no rate limit, but the same retries and error classes."""
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            self.stats.api_calls += 1
            try:
                response = send()
                error = raw_response_error(response, expect_body=False)
            except httpx.TimeoutException:
                error = TransientAmazonError(f"{what} timed out.", code="timeout")
            except httpx.TransportError as exc:
                error = TransientAmazonError(f"{what}: connection failed ({type(exc).__name__}).")
            if error is None:
                self.last_status = response.status_code
                return response
            if isinstance(error, PermanentAmazonError):
                raise error
            delay = self._backoff(attempt, waited)
            if delay is None:
                raise error
            waited += delay


def amazon_client(store: Store, *, stats: CallStats | None = None) -> AmazonClient:
    return AmazonClient(store, stats=stats)

"""The one place that talks to Amazon's SP-API and LWA, and the only module that
imports `sp_api`.

Every call goes through `AmazonClient._call`, which:
- waits on the shared rate limiter (connections.ratelimit) before each attempt,
- builds a fresh sp_api client for the attempt (a restricted data token left on
  a client by a failed call must not leak into the next one),
- points it at `SP_API_ENDPOINT` or the store's regional endpoint, fixes the
  `host` header for http:// endpoints and sends LWA to `LWA_TOKEN_URL`,
- follows `x-amzn-RateLimit-Limit`, retries 429/5xx/timeouts with exponential
  backoff and full jitter (bounded attempts and total wait),
- turns sp_api/httpx/LWA failures into our Transient/Permanent errors.

Tokens never appear in our logs or exception messages, and sp_api's own
loggers stay at WARNING (at DEBUG they print tokens and whole responses).
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import random
import ssl
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import certifi
import httpx
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from sp_api.api.feeds.feeds_2021_06_30 import FeedsV20210630
from sp_api.api.listings_items.listings_items_2021_08_01 import ListingsItemsV20210801
from sp_api.api.orders.orders_2026_01_01 import OrdersV20260101
from sp_api.api.orders.orders_v0 import OrdersV0
from sp_api.api.sellers.sellers import Sellers
from sp_api.auth import AccessTokenClient
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import Client, Marketplaces
from sp_api.base.credential_provider import MissingCredentials
from sp_api.base.exceptions import SellingApiException, SellingApiRequestThrottledException

from . import ratelimit
from .models import Store

logger = logging.getLogger(__name__)

# sp_api.base.client sets its own logger to INFO at import, which beats the
# LOGGING setting for the "sp_api" parent: pin every sp_api logger here.
for _name in ("sp_api", "sp_api.base.client", "sp_api.auth.access_token_client"):
    logging.getLogger(_name).setLevel(logging.WARNING)

RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"
# searchListingsItems: at most 20 identifiers and 20 items a page (the model's maxItems / maximum).
SEARCH_LISTINGS_MAX_IDENTIFIERS = 20
# 20 SKUs cannot need more pages than this even one item a page; more means a loop.
SEARCH_LISTINGS_MAX_PAGES = 25
_BACKOFF_BASE_SECONDS = 1.0
_BACKOFF_CAP_SECONDS = 30.0


# --- Errors ---------------------------------------------------------------------


class AmazonError(Exception):
    """A failed SP-API/LWA call. Carries Amazon's error list, never a token."""

    def __init__(
        self, message: str, *, code: str = "", status: int | None = None, errors: list | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.errors = errors or []

    def __str__(self) -> str:
        prefix = f"{self.status} " if self.status else ""
        code = f"{self.code}: " if self.code else ""
        return f"{prefix}{code}{self.message}"


class TransientAmazonError(AmazonError):
    """Worth retrying later: throttled after retries, 5xx, timeouts, dropped connections."""


class PermanentAmazonError(AmazonError):
    """Retrying will not help: the request or the authorization is wrong."""


class ReauthorizationRequired(PermanentAmazonError):
    """LWA refused the store's refresh token (invalid_grant): the merchant must authorize again."""


@dataclass
class CallStats:
    """Passed in by jobs to count what a run did."""

    api_calls: int = 0
    throttled: int = 0  # 429s met (and absorbed) along the way


# --- sp_api plumbing ------------------------------------------------------------


class _LwaClient(AccessTokenClient):
    """sp_api's LWA client, sent to settings.LWA_TOKEN_URL (the sandbox, a proxy)
    and made to fail with a status we can classify on a non-JSON answer."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        url = urlsplit(settings.LWA_TOKEN_URL)
        self.scheme = f"{url.scheme}://"
        self.host = url.netloc
        self.path = url.path or "/auth/o2/token"
        self._transport._client.timeout = httpx.Timeout(settings.SP_API_TIMEOUT)

    def _request(self, url, data, headers):
        response = self._transport.request("POST", url, data=data, headers=headers)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            body = body if isinstance(body, dict) else {}
            raise AuthorizationError(
                body.get("error") or "invalid_response",
                body.get("error_description") or f"LWA answered HTTP {response.status_code}",
                response.status_code,
            )
        return body


class _RecordingTransport:
    """Wraps sp_api's transport to keep the last response: sp_api turns an HTML
    502/503 into an empty ApiResponse, so the status is only visible here."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.last_response: httpx.Response | None = None

    def request(self, method, url, **kwargs):
        self.last_response = self._inner.request(method, url, **kwargs)
        return self.last_response

    def stream(self, *args, **kwargs):
        return self._inner.stream(*args, **kwargs)

    def close(self) -> None:
        self._inner.close()


class _HostHeaderFix:
    """sp_api sends `host: endpoint[8:]`, which is wrong for http:// endpoints
    (and any endpoint with a path). Mixed into the versioned class that is
    actually built, never into the front classes (Orders, Feeds), whose
    metaclass picks the versioned class and would drop a subclass's override."""

    endpoint: str

    @property
    def headers(self):
        headers = super().headers
        headers["host"] = urlsplit(self.endpoint).netloc
        return headers


class _OrdersV20260101(_HostHeaderFix, OrdersV20260101):
    pass


class _OrdersV0(_HostHeaderFix, OrdersV0):
    pass


class _Feeds(_HostHeaderFix, FeedsV20210630):
    pass


class _ListingsItems(_HostHeaderFix, ListingsItemsV20210801):
    pass


class _Sellers(_HostHeaderFix, Sellers):
    pass


_ClientT = TypeVar("_ClientT", bound=Client)
_T = TypeVar("_T")


def _credentials() -> dict[str, str]:
    return {"lwa_app_id": settings.LWA_CLIENT_ID, "lwa_client_secret": settings.LWA_CLIENT_SECRET}


def _endpoint_for(store: Store) -> str:
    return (settings.SP_API_ENDPOINT or store.marketplace.sp_api_endpoint).rstrip("/")


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client this process builds.

    sp_api builds an httpx client per API client and a client per call is
    what keeps restricted data tokens from leaking between calls; loading the
    CA bundle each time cost ~37 ms a call (a third of an order download).
    """
    return ssl.create_default_context(cafile=certifi.where())


def _build(cls: type[_ClientT], store: Store, *, timeout: float) -> _ClientT:
    """The one constructor of sp_api clients: endpoint, marketplace, LWA, token."""
    client = cls(
        Marketplaces.US,  # replaced just below: sp_api's enum does not know our rows
        refresh_token=store.refresh_token,
        credentials=_credentials(),
        timeout=timeout,
        verify=_tls_context(),
        auth_token_client_class=_LwaClient,
    )
    client.endpoint = _endpoint_for(store)
    client.marketplace_id = store.marketplace.marketplace_id
    client.region = store.marketplace.aws_region
    client._transport = _RecordingTransport(client._transport)
    return client


def _lwa_error(exc: AuthorizationError) -> AmazonError:
    code = exc.error_code or ""
    message = exc.message or "Login with Amazon refused the request."
    status = exc.status_code
    if code == "invalid_grant":
        return ReauthorizationRequired(
            "Amazon no longer accepts this store's authorization; the merchant must authorize again.",
            code=code,
            status=status,
        )
    if status and (status >= 500 or status == 429):
        return TransientAmazonError(message, code=code, status=status)
    return PermanentAmazonError(message, code=code, status=status)


def _api_error(exc: SellingApiException, status: int | None) -> AmazonError:
    errors = exc.error if isinstance(exc.error, list) else []
    message = getattr(exc, "message", None) or "Amazon refused the request."
    code = getattr(exc, "amzn_code", None) or ""
    status = status or (exc.code if exc.code != 999 else None)
    if status and (status == 429 or status >= 500):
        return TransientAmazonError(message, code=code, status=status, errors=errors)
    return PermanentAmazonError(message, code=code, status=status, errors=errors)


def _check_raw_response(response: httpx.Response | None, *, expect_body: bool) -> AmazonError | None:
    """Errors sp_api let through as an (empty) ApiResponse."""
    if response is None:
        return None
    status = response.status_code
    if status == 429:
        return TransientAmazonError("Amazon throttled the request.", code="QuotaExceeded", status=status)
    if status >= 500:
        return TransientAmazonError("Amazon answered with a server error.", status=status)
    if status >= 400:
        return PermanentAmazonError("Amazon refused the request.", status=status)
    if expect_body and status != 204:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict | list) or not body:
            return TransientAmazonError("Amazon answered with an empty or non-JSON body.", status=status)
    return None


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
        response = self._call("searchOrders", _OrdersV20260101, lambda c: c.search_orders(**params))
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
        response = self._call("getOrder", _OrdersV20260101, lambda c: c.get_order(order_id, **params))
        return response.payload

    def confirm_shipment(self, order_id: str, *, body: dict) -> None:
        self._call(
            "confirmShipment",
            _OrdersV0,
            lambda c: c.confirm_shipment(order_id, **body),
            expect_body=False,
        )

    # -- sellers

    def get_marketplace_participations(self) -> list[dict]:
        response = self._call(
            "getMarketplaceParticipations", _Sellers, lambda c: c.get_marketplace_participation()
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
            "createFeedDocument", _Feeds, lambda c: c.create_feed_document(None, content_type)
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
            _Feeds,
            lambda c: c.create_feed(feed_type, input_feed_document_id, marketplaceIds=ids),
        )
        feed_id = response.payload.get("feedId")
        if not feed_id:
            raise PermanentAmazonError("createFeed answered without a feedId.")
        return str(feed_id)

    def get_feed(self, feed_id: str) -> dict:
        return self._call("getFeed", _Feeds, lambda c: c.get_feed(feed_id)).payload

    def get_feed_document(self, feed_document_id: str) -> bytes:
        # sp_api's own helper decodes to str with a guessed charset; we want
        # the bytes, so ask for the document's metadata and download it here.
        document = self._call(
            "getFeedDocument",
            _Feeds,
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
            _ListingsItems,
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
                _ListingsItems,
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
            _ListingsItems,
            lambda c: c.patch_listings_item(
                self._seller_id(), sku, body=body, marketplaceIds=self.store.marketplace.marketplace_id
            ),
        ).payload

    # -- the machinery

    def _seller_id(self) -> str:
        if not self.store.selling_partner_id:
            raise PermanentAmazonError("The store has no selling partner id; authorize it first.")
        return self.store.selling_partner_id

    def _bucket(self, operation: str) -> ratelimit.BucketKey:
        return ratelimit.BucketKey(
            selling_partner_id=self.store.selling_partner_id or f"store-{self.store.pk}",
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
        cls: type[_ClientT],
        fn: Callable[[_ClientT], Any],
        *,
        expect_body: bool = True,
    ):
        if not self.store.refresh_token:
            raise ReauthorizationRequired("The store has no Amazon authorization yet.", code="not_authorized")
        bucket = self._bucket(operation)
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            error = self._attempt(operation, bucket, cls, fn, expect_body=expect_body)
            if not isinstance(error, AmazonError):
                return error
            if isinstance(error, ReauthorizationRequired):
                self._mark_needs_reauthorization(error)
                raise error
            if isinstance(error, PermanentAmazonError):
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

    def _attempt(self, operation, bucket, cls, fn, *, expect_body: bool):
        """One call; returns the ApiResponse, or the AmazonError to act on."""
        try:
            client = _build(cls, self.store, timeout=self.timeout)
        except MissingCredentials as exc:
            del exc  # its text names the settings file sp_api looked for, not ours
            return PermanentAmazonError("LWA_CLIENT_ID / LWA_CLIENT_SECRET are not configured.")
        try:
            try:
                # The access token first (cached per process): a slot taken
                # before a slow LWA round trip would reach Amazon late, after
                # our bucket had already counted that time as refill.
                client.auth  # noqa: B018
                self._wait_for_slot(bucket)
                self.stats.api_calls += 1
                response = fn(client)
            except SellingApiRequestThrottledException as exc:
                self._throttled(bucket, exc.headers)
                return _api_error(exc, 429)
            except SellingApiException as exc:
                raw = client._transport.last_response
                return _api_error(exc, raw.status_code if raw is not None else None)
            except AuthorizationError as exc:
                return _lwa_error(exc)
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
            problem = _check_raw_response(raw, expect_body=expect_body)
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
                error = _check_raw_response(response, expect_body=False)
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

    def _mark_needs_reauthorization(self, error: AmazonError) -> None:
        from .services import store_mark_needs_reauthorization  # services import this module

        store_mark_needs_reauthorization(store=self.store, reason=error.message)


def amazon_client(store: Store, *, stats: CallStats | None = None) -> AmazonClient:
    return AmazonClient(store, stats=stats)


@sensitive_variables("code", "data", "body", "token")
def authorization_code_exchange(*, code: str, redirect_uri: str) -> str:
    """Trade the consent page's `spapi_oauth_code` for the store's refresh token."""
    lwa = _LwaClient(refresh_token=None, credentials=_LwaCredentials())
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": settings.LWA_CLIENT_ID,
        "client_secret": settings.LWA_CLIENT_SECRET,
    }
    try:
        body = lwa._request(lwa.scheme + lwa.host + lwa.path, data, lwa.headers)
    except AuthorizationError as exc:
        error = _lwa_error(exc)
        if isinstance(error, ReauthorizationRequired):
            # For a code, invalid_grant means used, expired or not ours: not
            # the store's fault, and no store to mark.
            raise PermanentAmazonError(
                "Amazon did not accept the authorization code (expired or already used).",
                code="invalid_grant",
                status=exc.status_code,
            ) from exc
        raise error from exc
    except httpx.TimeoutException as exc:
        raise TransientAmazonError("Login with Amazon timed out.", code="timeout") from exc
    except httpx.TransportError as exc:
        raise TransientAmazonError("Could not reach Login with Amazon.") from exc
    finally:
        lwa._transport.close()
    token = body.get("refresh_token")
    if not token:
        raise PermanentAmazonError("Login with Amazon answered without a refresh token.")
    return token


class _LwaCredentials:
    """The shape sp_api's Credentials reads (app id and secret)."""

    @property
    def lwa_app_id(self) -> str:
        return settings.LWA_CLIENT_ID

    @property
    def lwa_client_secret(self) -> str:
        return settings.LWA_CLIENT_SECRET

    refresh_token = None

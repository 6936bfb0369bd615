"""sp_api's client classes, fixed for our endpoints, and the one function that builds them."""

from __future__ import annotations

import functools
import logging
import ssl
from typing import TypeVar
from urllib.parse import urlsplit

import certifi
import httpx
from django.conf import settings
from sp_api.api.feeds.feeds_2021_06_30 import FeedsV20210630
from sp_api.api.listings_items.listings_items_2021_08_01 import ListingsItemsV20210801
from sp_api.api.notifications.notifications import Notifications
from sp_api.api.orders.orders_2026_01_01 import OrdersV20260101
from sp_api.api.orders.orders_v0 import OrdersV0
from sp_api.api.sellers.sellers import Sellers
from sp_api.base import Client, Marketplaces

from ..models import Store
from .lwa import LwaClient, credentials

# sp_api.base.client sets its own logger to INFO at import, which beats the
# LOGGING setting for the "sp_api" parent: pin every sp_api logger here.
for _name in ("sp_api", "sp_api.base.client", "sp_api.auth.access_token_client"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class RecordingTransport:
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


class OrdersApi(_HostHeaderFix, OrdersV20260101):
    pass


class OrdersV0Api(_HostHeaderFix, OrdersV0):
    pass


class FeedsApi(_HostHeaderFix, FeedsV20210630):
    pass


class ListingsItemsApi(_HostHeaderFix, ListingsItemsV20210801):
    pass


class SellersApi(_HostHeaderFix, Sellers):
    pass


class NotificationsApi(_HostHeaderFix, Notifications):
    """Notifications API v1 (connections/amazon_models/notifications.json).

    sp_api's own methods add `marketplaceIds` to every POST body (not in the
    model), send deleteSubscriptionById with the seller's token (the model says
    grantless) and lack sendTestNotification; these send exactly the model's
    requests. Grantless operations use the client-credentials token with
    sp_api's scope `sellingpartnerapi::notifications`.
    """

    def send(self, method: str, path: str, *, body: dict | None = None, grantless: bool = False):
        self.method = method
        headers = self.headers
        if grantless:
            headers = {**headers, "x-amz-access-token": self.grantless_auth.access_token}
        data = dict(body or {}, method=method) if method in ("POST", "PUT") else None
        params = {"method": method} if data is None else None
        return self._request(path, data=data, params=params, headers=headers, add_marketplace=False)


ClientT = TypeVar("ClientT", bound=Client)


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


def build(cls: type[ClientT], store: Store, *, timeout: float) -> ClientT:
    """The one constructor of sp_api clients: endpoint, marketplace, LWA, token."""
    client = cls(
        Marketplaces.US,  # replaced just below: sp_api's enum does not know our rows
        refresh_token=store.refresh_token,
        credentials=credentials(),
        timeout=timeout,
        verify=_tls_context(),
        auth_token_client_class=LwaClient,
    )
    client.endpoint = _endpoint_for(store)
    client.marketplace_id = store.marketplace.marketplace_id
    client.region = store.marketplace.aws_region
    client._transport = RecordingTransport(client._transport)
    return client

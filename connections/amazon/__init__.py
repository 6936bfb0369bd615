"""The Amazon adapter: the one place that talks to Amazon's SP-API and LWA,
and the only package that imports `sp_api`.

It only talks to Amazon. It writes nothing about a store: when LWA refuses a
store's refresh token it raises ReauthorizationRequired, and the code that
ran the call records that on the store
(connections.services.store_reauthorization_record). Its one table of its
own is the rate limiter's buckets (connections.ratelimit), its pacing state.

- client.py: AmazonClient, the operations callers use (rate limited, retried,
  classified), and CallStats;
- clients.py: sp_api's client classes fixed for our endpoints, and `build`;
- lwa.py: Login with Amazon (token client, authorization code exchange);
- errors.py: AmazonError and its kinds, and the classification of failures.

Tokens never appear in our logs or exception messages, and sp_api's own
loggers stay at WARNING (at DEBUG they print tokens and whole responses).
"""

from .client import SEARCH_LISTINGS_MAX_IDENTIFIERS, AmazonClient, CallStats, amazon_client
from .errors import AmazonError, PermanentAmazonError, ReauthorizationRequired, TransientAmazonError
from .lwa import authorization_code_exchange

__all__ = [
    "SEARCH_LISTINGS_MAX_IDENTIFIERS",
    "AmazonClient",
    "AmazonError",
    "CallStats",
    "PermanentAmazonError",
    "ReauthorizationRequired",
    "TransientAmazonError",
    "amazon_client",
    "authorization_code_exchange",
]

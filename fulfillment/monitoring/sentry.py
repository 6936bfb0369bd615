"""Optional error reporting to Sentry, with nothing personal in what leaves.

`send_default_pii=False` keeps users, cookies and request bodies out, and
`include_local_variables=False` keeps a frame's variables (an order's address,
a token) out of stack traces. `event_scrub` then removes what the Django
integration still attaches: the query string (OAuth codes, merchant-link
tokens), request bodies, cookies and every header but a few harmless ones, and
query strings from breadcrumbs' URLs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Request headers that say nothing about who the user is or what they hold.
_KEPT_HEADERS = {"accept", "content-type", "content-length", "user-agent", "host", "x-forwarded-proto"}


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def event_scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_send: the event with request data, user and query strings removed."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        if isinstance(request.get("url"), str):
            request["url"] = _without_query(request["url"])
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}
    event.pop("user", None)
    breadcrumbs = event.get("breadcrumbs")
    values = breadcrumbs.get("values", []) if isinstance(breadcrumbs, dict) else breadcrumbs or []
    for crumb in values:
        breadcrumb_scrub(crumb)
    return event


def breadcrumb_scrub(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_breadcrumb: HTTP breadcrumbs keep the URL's path, not its query."""
    data = crumb.get("data")
    if isinstance(data, dict):
        data.pop("http.query", None)
        data.pop("http.fragment", None)
        if isinstance(data.get("url"), str):
            data["url"] = _without_query(data["url"])
    return crumb


def sentry_init(
    *,
    dsn: str,
    environment: str,
    release: str | None,
    traces_sample_rate: float,
    **options: Any,
) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=event_scrub,
        before_breadcrumb=breadcrumb_scrub,
        integrations=[DjangoIntegration()],
        **options,
    )

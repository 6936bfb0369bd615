"""Answers /healthz, /healthz/web and /metrics first in the middleware chain.

A load balancer probes each instance by its address over plain HTTP, and
Prometheus scrapes it the same way: Django's ALLOWED_HOSTS check and
SECURE_SSL_REDIRECT would answer them 400 and 301. These answers build no URL
from the Host header and set no cookie, so neither protection is needed here;
/metrics still needs its bearer token.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from fulfillment.monitoring import views

_ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": views.healthz,
    "/healthz/web": views.healthz_web,
    "/metrics": views.metrics,
}


class MonitoringEndpointsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = _ENDPOINTS.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)

"""/healthz, /healthz/web and /metrics: thin; the figures come from health.py and metrics.py."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from fulfillment.monitoring.health import health_report
from fulfillment.monitoring.metrics import metrics_text


def _health(web_only: bool) -> HttpResponse:
    report = health_report(now=timezone.now(), web_only=web_only)
    return JsonResponse(report.as_dict(), status=200 if report.ok else 503)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Everything: the monitor's question."""
    return _health(web_only=False)


@never_cache
@require_safe
def healthz_web(request: HttpRequest) -> HttpResponse:
    """Database, broker, cache: the load balancer's question (can this web serve?)."""
    return _health(web_only=True)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404("METRICS_TOKEN is not set")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)

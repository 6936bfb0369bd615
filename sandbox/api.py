"""What every emulated SP-API operation does before and after its own work:
authenticate `x-amz-access-token`, inject faults, apply the usage plan, and put
`x-amzn-RateLimit-Limit` and a request id on the answer."""

from __future__ import annotations

import functools
import json
import random
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from .models import SandboxAccessToken, SandboxFaults
from .rate_limits import rate_bucket_take, rate_limit_header, rate_limits_enabled


def error_response(status: int, code: str, message: str, details: str = "") -> JsonResponse:
    """Amazon's `ErrorList` shape."""
    return JsonResponse({"errors": [{"code": code, "message": message, "details": details}]}, status=status)


def json_body(request: HttpRequest):
    """The request's JSON body, or None when it does not parse."""
    try:
        return json.loads(request.body.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def query_list(request: HttpRequest, name: str) -> list[str]:
    """Array query parameters arrive repeated (`a=1&a=2`) or comma-separated (`a=1,2`)."""
    values: list[str] = []
    for raw in request.GET.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


GRANTLESS_SCOPE = "sellingpartnerapi::notifications"


def _authenticate(
    request: HttpRequest, *, grantless: bool = False
) -> tuple[SandboxAccessToken | None, JsonResponse | None]:
    token = request.headers.get("x-amz-access-token", "")
    if not token:
        return None, error_response(403, "Unauthorized", "Access to requested resource is denied.", "")
    access = SandboxAccessToken.objects.select_related("seller", "application").filter(token=token).first()
    if access is None:
        return None, error_response(403, "Unauthorized", "Access to requested resource is denied.", "")
    # A grantless operation takes the application's client-credentials token (and
    # only that); every other operation a seller's.
    if grantless != (access.seller_id is None) or (grantless and GRANTLESS_SCOPE not in access.scope.split()):
        return None, error_response(403, "Unauthorized", "Access to requested resource is denied.", "")
    if access.expires_at <= timezone.now():
        return None, error_response(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            "The access token you provided has expired.",
        )
    return access, None


def _fault_response(faults: SandboxFaults) -> HttpResponse | None:
    if faults.slow_ms:
        time.sleep(faults.slow_ms / 1000)
    if faults.drop_rate and random.random() < faults.drop_rate:
        # What a client sees when the connection drops behind the load balancer.
        return HttpResponse(b"", status=502, content_type="text/html")
    if faults.error_rate and random.random() < faults.error_rate:
        if random.random() < 0.5:
            return error_response(
                500, "InternalFailure", "We encountered an internal error. Please try again."
            )
        # Amazon's load balancer answers 503 with an HTML page, not an ErrorList.
        return HttpResponse(
            b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
            status=503,
            content_type="text/html",
        )
    return None


def sp_api_operation(operation: str, *, grantless: bool = False) -> Callable:
    """Wrap a view `view(request, access, **kwargs)` as the SP-API operation `operation`
    (`grantless`: called with the application's token, `access.seller` is None)."""

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = _handle(request, operation, view, *args, grantless=grantless, **kwargs)
            response["x-amzn-RateLimit-Limit"] = rate_limit_header(operation)
            response["x-amzn-RequestId"] = str(uuid.uuid4())
            return response

        wrapper.sp_api_operation = operation
        return wrapper

    return decorator


def _handle(
    request: HttpRequest, operation: str, view: Callable, *args, grantless: bool = False, **kwargs
) -> HttpResponse:
    access, refusal = _authenticate(request, grantless=grantless)
    if refusal is not None:
        return refusal
    faults = SandboxFaults.current()
    fault = _fault_response(faults)
    if fault is not None:
        return fault
    if faults.throttle_storm or (
        rate_limits_enabled()
        and not rate_bucket_take(
            caller=access.seller.selling_partner_id if access.seller else access.application.application_id,
            operation=operation,
        )
    ):
        return error_response(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")
    return view(request, access, *args, **kwargs)

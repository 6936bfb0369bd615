"""/sandbox/: what the sandbox is, who sells in it, its orders and fault switches."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render

from ..models import FulfillmentStatus, SandboxFaults
from ..selectors import sandbox_overview

STATUSES = (
    FulfillmentStatus.UNSHIPPED,
    FulfillmentStatus.PARTIALLY_SHIPPED,
    FulfillmentStatus.SHIPPED,
    FulfillmentStatus.CANCELLED,
)


def home(request):
    sellers = [(row, [row.by_status.get(status, 0) for status in STATUSES]) for row in sandbox_overview()]
    return render(
        request,
        "sandbox/home.html",
        {
            "sellers": sellers,
            "statuses": [status.label for status in STATUSES],
            "faults": SandboxFaults.current(),
            "endpoint": request.build_absolute_uri("/sandbox"),
            "product_endpoint": settings.SP_API_ENDPOINT,
            "lag_seconds": settings.SANDBOX_NOW_LAG_SECONDS,
        },
    )

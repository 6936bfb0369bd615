"""Amazon's per-operation usage plans and a token bucket shared through the database.

The rates and bursts are copied from the "Usage Plan" tables in the official
models (`connections/amazon_models/*.json`); tests/sandbox/test_amazon_models.py reads
the models and fails if this table drifts from them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import SandboxRateBucket


@dataclass(frozen=True)
class UsagePlan:
    rate: float  # requests per second
    burst: int


USAGE_PLANS: dict[str, UsagePlan] = {
    "searchOrders": UsagePlan(0.0056, 20),
    "getOrder": UsagePlan(0.5, 30),
    "confirmShipment": UsagePlan(2, 10),
    "createFeedDocument": UsagePlan(0.5, 15),
    "createFeed": UsagePlan(0.0083, 15),
    "getFeed": UsagePlan(2, 15),
    "getFeedDocument": UsagePlan(0.0222, 10),
    "getListingsItem": UsagePlan(5, 10),
    "patchListingsItem": UsagePlan(5, 5),
    "searchListingsItems": UsagePlan(5, 5),
    "getMarketplaceParticipations": UsagePlan(0.016, 15),
    "createDestination": UsagePlan(1, 5),
    "getDestinations": UsagePlan(1, 5),
    "createSubscription": UsagePlan(1, 5),
    "getSubscription": UsagePlan(1, 5),
    "deleteSubscriptionById": UsagePlan(1, 5),
    "sendTestNotification": UsagePlan(1, 5),
}


def rate_limits_enabled() -> bool:
    # Read at request time so a test can flip it with the `settings` fixture.
    return bool(getattr(settings, "SANDBOX_RATE_LIMITS", True))


def time_scale() -> float:
    return float(getattr(settings, "SANDBOX_TIME_SCALE", 1.0) or 1.0)


def rate_limit_header(operation: str) -> str:
    """`x-amzn-RateLimit-Limit`: the rate in force (scaled, as the client would observe it)."""
    return f"{USAGE_PLANS[operation].rate * time_scale():g}"


def rate_bucket_take(*, caller: str, operation: str, now: dt.datetime | None = None) -> bool:
    """Take one token from (caller, operation)'s bucket; False means throttle.

    The row lock makes several web processes share one bucket, as Amazon does
    for a selling partner no matter which host answers.
    """
    plan = USAGE_PLANS[operation]
    rate = plan.rate * time_scale()
    now = now or timezone.now()
    with transaction.atomic():
        SandboxRateBucket.objects.get_or_create(
            caller=caller, operation=operation, defaults=dict(tokens=plan.burst, updated_at=now)
        )
        bucket = SandboxRateBucket.objects.select_for_update().get(caller=caller, operation=operation)
        elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
        tokens = min(float(plan.burst), bucket.tokens + elapsed * rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        bucket.tokens = tokens
        bucket.updated_at = now
        bucket.save(update_fields=["tokens", "updated_at"])
    return allowed

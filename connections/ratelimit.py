"""A token bucket per (selling partner, region, operation), shared through the
database by every web process, worker and machine.

Amazon throttles each operation per selling partner and application with a
token bucket (rate per second, burst). We keep a copy of that bucket in one
row and take a token before every call, so a burst of calls from several
workers waits here instead of meeting 429s there.

A caller that finds the bucket empty *reserves* the next slot (the count goes
below zero) and sleeps outside the transaction: callers queue fairly and the
row lock is held for milliseconds, not for the wait.

`sleep` and `clock` are module functions so tests can patch them, and
`SP_API_RATE_TIME_SCALE` speeds the clock up for tests and benchmarks.

A job that holds a short lease keeps it alive while it waits here, and at
every call it makes (`heartbeat`): searchOrders allows one call every three
minutes, far longer than the lease.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Least

from .models import RateLimitBucket

# Amazon's usage plans (rate per second, burst), from the models in
# connections/amazon_models/. An `x-amzn-RateLimit-Limit` header overrides
# the rate for that seller's bucket; the burst stays.
USAGE_PLANS: dict[str, tuple[float, float]] = {
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "createRestrictedDataToken": (1.0, 10),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "getListingsItem": (5.0, 10),
    "patchListingsItem": (5.0, 5),
    "searchListingsItems": (5.0, 5),
    "getMarketplaceParticipations": (0.016, 15),
    # Notifications API v1: every operation 1/s, burst 5.
    "createDestination": (1.0, 5),
    "getDestinations": (1.0, 5),
    "createSubscription": (1.0, 5),
    "getSubscription": (1.0, 5),
    "deleteSubscriptionById": (1.0, 5),
    "sendTestNotification": (1.0, 5),
}
# An operation missing above gets Amazon's most common conservative plan.
DEFAULT_PLAN = (0.5, 10)
# We pace a little below Amazon's rate: requests from several workers reach
# Amazon with varying latency, so two calls we spaced exactly 1/rate apart can
# arrive closer together than that and the second would meet a 429.
_HEADROOM = 0.95


@dataclass(frozen=True)
class BucketKey:
    selling_partner_id: str
    region: str
    operation: str

    def filter_kwargs(self) -> dict[str, str]:
        return {
            "selling_partner_id": self.selling_partner_id,
            "region": self.region,
            "operation": self.operation,
        }


class RateLimitWaitTooLong(Exception):
    """The next slot is further away than the caller is willing to wait."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the next call slot is {wait:.1f} s away")
        self.wait = wait


# Called at every call slot, and at least every HEARTBEAT_SECONDS while this context
# sleeps (a job's lease renewal).
_heartbeat: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "ratelimit_heartbeat", default=None
)
HEARTBEAT_SECONDS = 10.0


@contextlib.contextmanager
def heartbeat(beat: Callable[[], None]) -> Iterator[None]:
    """Run `beat` every few seconds while this thread waits for a slot or a backoff."""
    token = _heartbeat.set(beat)
    try:
        yield
    finally:
        _heartbeat.reset(token)


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def sleep(seconds: float) -> None:
    beat = _heartbeat.get()
    if beat is None:
        _pause(seconds)
        return
    while seconds > 0:
        step = min(seconds, HEARTBEAT_SECONDS)
        _pause(step)
        seconds -= step
        beat()


def clock() -> float:
    return time.time()


def time_scale() -> float:
    scale = float(getattr(settings, "SP_API_RATE_TIME_SCALE", 1.0) or 1.0)
    return scale if scale > 0 else 1.0


def _lock_bucket(key: BucketKey) -> RateLimitBucket:
    """Lock (creating if need be) the bucket row; call inside a transaction.

    The no-op UPDATE comes first on purpose: on SQLite it takes the database
    write lock before we read (a plain SELECT then UPDATE can deadlock two
    writers), on PostgreSQL it row-locks like SELECT ... FOR UPDATE.
    """
    rows = RateLimitBucket.objects.filter(**key.filter_kwargs())
    if not rows.update(operation=key.operation):
        rate, burst = USAGE_PLANS.get(key.operation, DEFAULT_PLAN)
        fresh = RateLimitBucket(
            **key.filter_kwargs(), rate=rate, burst=burst, tokens=burst, updated_at=clock()
        )
        RateLimitBucket.objects.bulk_create(
            [fresh],
            ignore_conflicts=True,
        )
        rows.update(operation=key.operation)
    return rows.select_for_update().get()


def acquire(key: BucketKey, *, max_wait: float | None = None) -> float:
    """Take one call slot, sleeping until it comes; returns the seconds waited.

    With `max_wait`, a slot further away raises RateLimitWaitTooLong and
    reserves nothing (for requests a person is waiting on).
    """
    scale = time_scale()
    if connection.vendor == "postgresql":
        wait = _take_in_one_statement(key, scale=scale, max_wait=max_wait)
        if wait is not None:
            return _after_take(wait)
    with transaction.atomic():
        bucket = _lock_bucket(key)
        now = clock()
        rate = bucket.rate * scale * _HEADROOM
        tokens = min(bucket.burst, bucket.tokens + max(0.0, now - bucket.updated_at) * rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
        if max_wait is not None and wait > max_wait:
            raise RateLimitWaitTooLong(wait / scale)
        RateLimitBucket.objects.filter(pk=bucket.pk).update(
            tokens=tokens - 1, updated_at=now, calls=F("calls") + 1
        )
    return _after_take(wait)


def _after_take(wait: float) -> float:
    if wait > 0:
        sleep(wait)
    else:
        # Every call is a step of the job that makes it: its lease is renewed
        # however many calls come back to back (cheap: a query at most once a
        # quarter of the lease).
        beat = _heartbeat.get()
        if beat is not None:
            beat()
    return wait


def _take_in_one_statement(key: BucketKey, *, scale: float, max_wait: float | None) -> float | None:
    """PostgreSQL: refill and take a token in one UPDATE … RETURNING (the row lock is
    the UPDATE's own), instead of a lock, a read and a write; the same arithmetic as
    below. Returns the wait, or None when the bucket row does not exist yet (the
    general path creates it). A wait longer than `max_wait` reserves nothing: the
    UPDATE is rolled back with its savepoint."""
    table = RateLimitBucket._meta.db_table
    sql = f"""
        UPDATE {table} SET
            tokens = LEAST(burst, tokens + GREATEST(0, %(now)s - updated_at) * rate * %(factor)s) - 1,
            updated_at = %(now)s,
            calls = calls + 1
        WHERE selling_partner_id = %(spid)s AND region = %(region)s AND operation = %(operation)s
        RETURNING tokens, rate * %(factor)s
    """  # noqa: S608 (the table name is the model's; values are parameters)
    params = {
        "now": clock(),
        "factor": scale * _HEADROOM,
        "spid": key.selling_partner_id,
        "region": key.region,
        "operation": key.operation,
    }
    # Only a bounded wait needs the savepoint (to give the token back); otherwise the
    # UPDATE is its own transaction: no BEGIN and COMMIT around it on every call.
    bounded = transaction.atomic() if max_wait is not None else contextlib.nullcontext()
    with bounded, connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            return None
        left, rate = row
        # Below zero after taking: this call waits for the slot it reserved.
        wait = 0.0 if left >= 0 else -left / rate
        if max_wait is not None and wait > max_wait:
            raise RateLimitWaitTooLong(wait / scale)
    return wait


# Last rate written per bucket in this process: saves an UPDATE per call when
# Amazon keeps sending the same header.
_seen_rates: dict[BucketKey, float] = {}


def observe_rate(key: BucketKey, header_value: str | None) -> None:
    """Follow Amazon's `x-amzn-RateLimit-Limit` header (the rate in force)."""
    if not header_value:
        return
    try:
        rate = float(header_value)
    except (TypeError, ValueError):
        return
    if rate <= 0:
        return
    # The header is in wall-clock terms; buckets keep Amazon's unscaled rate
    # and `acquire` applies the scale (a scaled sandbox reports scaled rates).
    rate /= time_scale()
    if _seen_rates.get(key) == rate:
        return
    RateLimitBucket.objects.filter(**key.filter_kwargs()).exclude(rate=rate).update(rate=rate)
    _seen_rates[key] = rate


def observe_throttled(key: BucketKey) -> None:
    """Amazon said 429: its bucket is empty, so ours is too (for every process).

    Reserved slots (tokens below zero) and their refill clock stay as they are.
    """
    RateLimitBucket.objects.filter(**key.filter_kwargs()).update(
        throttled=F("throttled") + 1,
        tokens=Least(F("tokens"), Value(0.0)),
        updated_at=Case(When(tokens__gt=0, then=Value(clock())), default=F("updated_at")),
    )

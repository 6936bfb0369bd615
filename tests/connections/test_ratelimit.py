"""The shared token bucket: unit behaviour with a fake clock, then a burst of
real calls from two threads against the sandbox's own rate limits."""

import threading

import pytest
from django.db import connection
from django.utils import timezone

from connections import ratelimit
from connections.amazon import AmazonClient, CallStats
from connections.models import RateLimitBucket, Store
from sandbox.models import SandboxRateBucket

KEY = ratelimit.BucketKey(selling_partner_id="A1", region="NA", operation="getMarketplaceParticipations")


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]
    slept: list[float] = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    monkeypatch.setattr(ratelimit, "sleep", sleep)
    return slept


def test_it_lets_a_burst_through_then_paces_calls_at_the_rate(db, clock):
    # given: getMarketplaceParticipations is 0.016/s with a burst of 15
    # when
    waits = [ratelimit.acquire(KEY) for _ in range(17)]

    # then
    assert waits[:15] == [0.0] * 15
    assert waits[15] == pytest.approx(1 / (0.016 * 0.95), rel=0.01)
    assert waits[16] == pytest.approx(1 / (0.016 * 0.95), rel=0.01)


def test_it_follows_the_rate_amazon_announces(db, clock):
    for _ in range(15):
        ratelimit.acquire(KEY)

    ratelimit.observe_rate(KEY, "0.5")

    assert ratelimit.acquire(KEY) == pytest.approx(1 / (0.5 * 0.95), rel=0.01)


def test_it_empties_the_bucket_when_amazon_throttles(db, clock):
    ratelimit.acquire(KEY)

    ratelimit.observe_throttled(KEY)

    assert ratelimit.acquire(KEY) > 0


def test_it_refuses_to_wait_longer_than_asked_and_reserves_nothing(db, clock):
    # given
    for _ in range(15):
        ratelimit.acquire(KEY)
    tokens_before = RateLimitBucket.objects.get().tokens

    # when / then
    with pytest.raises(ratelimit.RateLimitWaitTooLong):
        ratelimit.acquire(KEY, max_wait=1.0)
    assert RateLimitBucket.objects.get().tokens == tokens_before


def test_it_scales_time_for_tests_and_benchmarks(db, clock, settings):
    settings.SP_API_RATE_TIME_SCALE = 100.0
    for _ in range(15):
        ratelimit.acquire(KEY)

    assert ratelimit.acquire(KEY) == pytest.approx(1 / (1.6 * 0.95), rel=0.02)


@pytest.mark.postgres(
    reason="SQLite's whole-database write lock can hold a granted call back longer than the "
    "limiter's 5% headroom, so calls reach the sandbox bunched; PostgreSQL locks the one bucket row"
)
@pytest.mark.django_db(transaction=True)
def test_it_keeps_two_threads_under_the_sandboxes_limit_with_no_429(settings, sandbox_seller, store):
    # given: the sandbox enforces Amazon's plan (0.016/s, burst 15), both sped up alike
    settings.SANDBOX_RATE_LIMITS = True
    settings.SANDBOX_TIME_SCALE = 250.0
    settings.SP_API_RATE_TIME_SCALE = 250.0
    store_id = store.pk
    per_thread = 15
    results: dict[str, list] = {}
    stats = {name: CallStats() for name in ("a", "b")}

    def burst(name: str) -> None:
        try:
            own = Store.objects.select_related("marketplace").get(pk=store_id)
            client = AmazonClient(own, stats=stats[name])
            results[name] = [client.get_marketplace_participations() for _ in range(per_thread)]
        except Exception as exc:  # reported below, not lost in the thread
            results[name] = [exc]
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=burst, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then: 30 calls, twice the burst, all answered and none throttled
    for name in ("a", "b"):
        assert len(results[name]) == per_thread, results[name][:1]
        assert all(isinstance(r, list) and r for r in results[name])
    assert stats["a"].api_calls + stats["b"].api_calls == 2 * per_thread
    assert stats["a"].throttled + stats["b"].throttled == 0


def test_it_absorbs_a_429_from_amazon_and_counts_it(db, store, sandbox_seller, settings):
    # given: another app used up the seller's quota at Amazon; our bucket does not know
    settings.SANDBOX_RATE_LIMITS = True
    for _ in range(15):
        AmazonClient(store).get_marketplace_participations()
    RateLimitBucket.objects.update(tokens=15)
    stats = CallStats()
    # speed both clocks up so the retry's wait for a token is milliseconds
    settings.SANDBOX_TIME_SCALE = 200.0
    settings.SP_API_RATE_TIME_SCALE = 200.0
    # Amazon's bucket is a token short from this instant: at 200x it refills in
    # about 0.6 s, so a slow machine between the loop above and the call below
    # cannot refill it first (it did once under CI load).
    SandboxRateBucket.objects.update(tokens=-1.0, updated_at=timezone.now())

    # when
    body = AmazonClient(store, stats=stats).get_marketplace_participations()

    # then: the caller got its answer; the run records the throttle it met
    assert body
    assert stats.throttled >= 1
    assert stats.api_calls == stats.throttled + 1

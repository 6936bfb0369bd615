"""Usage plans (token buckets) and fault switches."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from sandbox.models import SandboxOrder
from sandbox.orders import sandbox_orders_create
from sandbox.rate_limits import rate_bucket_take
from tests.sandbox.helpers import access_token_for
from tests.sandbox.schemas import assert_valid_response

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
SEARCH = "/orders/2026-01-01/orders"


@pytest.fixture
def get(client, sandbox_seller):
    token = access_token_for()

    def get(path, params=None):
        return client.get("/sandbox" + path, params or {}, HTTP_X_AMZ_ACCESS_TOKEN=token)

    return get


def test_a_bucket_allows_the_burst_then_refills_at_the_rate(db, settings):
    # given: getOrder is 0.5/s with a burst of 30
    t0 = timezone.now()
    assert all(rate_bucket_take(caller="S", operation="getOrder", now=t0) for _ in range(30))

    # when / then
    assert not rate_bucket_take(caller="S", operation="getOrder", now=t0)
    assert rate_bucket_take(caller="S", operation="getOrder", now=t0 + dt.timedelta(seconds=2))
    assert not rate_bucket_take(caller="S", operation="getOrder", now=t0 + dt.timedelta(seconds=2))
    # Another seller has its own bucket.
    assert rate_bucket_take(caller="OTHER", operation="getOrder", now=t0)


def test_time_scale_makes_the_real_rates_faster(db, settings):
    settings.SANDBOX_TIME_SCALE = 100
    t0 = timezone.now()
    for _ in range(30):
        rate_bucket_take(caller="S", operation="getOrder", now=t0)

    # 0.5/s x 100 = 50/s: one token back after 20 ms
    assert rate_bucket_take(caller="S", operation="getOrder", now=t0 + dt.timedelta(milliseconds=20))


def test_every_answer_carries_the_rate_limit_header_and_429_follows_the_model(get, settings):
    settings.SANDBOX_RATE_LIMITS = True
    answers = [get(PARTICIPATIONS) for _ in range(16)]

    assert [a.status_code for a in answers] == [200] * 15 + [429]
    assert {a["x-amzn-RateLimit-Limit"] for a in answers} == {"0.016"}
    assert_valid_response(answers[-1], model_file="sellers.json", path=PARTICIPATIONS)
    assert answers[-1].json()["errors"][0]["code"] == "QuotaExceeded"


def test_a_throttling_storm_answers_every_call_429(get, sandbox_faults):
    sandbox_faults(throttle_storm=True)

    response = get(PARTICIPATIONS)

    assert response.status_code == 429
    assert_valid_response(response, model_file="sellers.json", path=PARTICIPATIONS)


def test_errors_are_500_error_lists_or_503_html_pages(get, sandbox_faults):
    sandbox_faults(error_rate=1.0)

    answers = [get(PARTICIPATIONS) for _ in range(30)]

    assert {a.status_code for a in answers} == {500, 503}
    for answer in answers:
        if answer.status_code == 500:
            assert_valid_response(answer, model_file="sellers.json", path=PARTICIPATIONS)
        else:
            assert answer["Content-Type"].startswith("text/html")


def test_a_dropped_connection_is_an_empty_502(get, sandbox_faults):
    sandbox_faults(drop_rate=1.0)

    response = get(PARTICIPATIONS)

    assert response.status_code == 502
    assert response.content == b""


def test_slow_answers_wait(get, sandbox_faults):
    sandbox_faults(slow_ms=150)

    started = time.monotonic()
    response = get(PARTICIPATIONS)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.15


def test_an_order_changes_between_pages_and_is_found_by_the_next_download(
    get, sandbox_seller, sandbox_faults, monkeypatch
):
    # given
    orders = sandbox_orders_create(seller=sandbox_seller, count=6, seed=31, status="UNSHIPPED")
    sandbox_faults(change_order_between_pages=True)
    since = (timezone.now() - dt.timedelta(days=10)).isoformat()

    # when: a first download pages through
    first = get(SEARCH, {"lastUpdatedAfter": since, "maxResultsPerPage": 3}).json()
    second = get(SEARCH, {"paginationToken": first["pagination"]["nextToken"]}).json()
    seen = [o["orderId"] for o in first["orders"] + second["orders"]]
    watermark = first["lastUpdatedBefore"]

    # then: nothing skipped or repeated within the window pinned by page 1...
    assert sorted(seen) == sorted(o.order_id for o in orders)
    # ...and the order that changed meanwhile comes back on the next download,
    # once two minutes have passed.
    [changed] = SandboxOrder.objects.filter(last_updated_time__gt=watermark)
    three_minutes_later = timezone.now() + dt.timedelta(minutes=3)
    monkeypatch.setattr(timezone, "now", lambda: three_minutes_later)
    later = get(SEARCH, {"lastUpdatedAfter": watermark}).json()
    assert [o["orderId"] for o in later["orders"]] == [changed.order_id]

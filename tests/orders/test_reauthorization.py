"""A download or a retry that meets Amazon refusing the store's authorization
marks the store: the adapter only raises ReauthorizationRequired, the job records it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from connections.models import Store
from fulfillment.jobs.models import SyncRun
from fulfillment.orders.models import UnreadableOrder
from fulfillment.orders.services.download import orders_pull, orders_reconcile
from fulfillment.orders.services.unreadable_retry import unreadable_order_retry


def _amazon_refuses_the_token(store: Store) -> None:
    # The sandbox knows no seller with this token: LWA answers invalid_grant.
    Store.objects.filter(pk=store.pk).update(refresh_token="Atzr|no-longer-valid")
    store.refresh_from_db()


@pytest.mark.parametrize("job", [orders_pull, orders_reconcile], ids=["download", "reconciliation"])
def test_a_download_meeting_a_refused_authorization_marks_the_store(store, seller, job):
    # given
    _amazon_refuses_the_token(store)

    # when
    run = job(store=store)

    # then: the run failed saying why, and the store waits for a new authorization
    assert not run.ok
    assert "needs re-authorization" in run.error
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.NEEDS_REAUTHORIZATION
    assert "authorize again" in store.authorization_error
    assert not Store.objects.connected().filter(pk=store.pk).exists()
    assert SyncRun.objects.filter(store=store).count() == 1


def test_retrying_an_unreadable_order_meeting_a_refused_authorization_marks_the_store(store, seller):
    # given
    now = timezone.now()
    row = UnreadableOrder.objects.create(
        store=store,
        amazon_order_id="111-0000000-0000001",
        reason="is missing",
        first_seen_at=now,
        last_seen_at=now,
    )
    _amazon_refuses_the_token(store)

    # when
    result = unreadable_order_retry(unreadable=row)

    # then
    assert not result.resolved
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.NEEDS_REAUTHORIZATION

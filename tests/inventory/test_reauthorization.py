"""A push that meets Amazon refusing the store's authorization marks the store:
the adapter only raises ReauthorizationRequired, the push records it."""

from __future__ import annotations

import pytest

from connections.models import Store
from fulfillment.inventory.services import inventory_push_run


def _amazon_refuses_the_token(store: Store) -> None:
    # The sandbox knows no seller with this token: LWA answers invalid_grant.
    Store.objects.filter(pk=store.pk).update(refresh_token="Atzr|no-longer-valid")
    store.refresh_from_db()


def _needs_reauthorization(store: Store) -> bool:
    store.refresh_from_db()
    return store.authorization_status == Store.Authorization.NEEDS_REAUTHORIZATION


def test_a_push_refused_while_reading_channels_marks_the_store(store, sku):
    # given: the channel of MUG was never read
    sku("MUG", available=5)
    _amazon_refuses_the_token(store)

    # when
    run = inventory_push_run(store=store)

    # then
    assert not run.ok and "needs re-authorization" in run.error
    assert _needs_reauthorization(store)


@pytest.mark.parametrize("by_feed", [False, True], ids=["patch", "feed"])
def test_a_push_refused_while_sending_marks_the_store(store, sku, stock, settings, by_feed):
    # given: channels known from a first push, then a quantity to send
    sku("MUG", available=5)
    assert inventory_push_run(store=store).ok
    stock("MUG", 3)
    if by_feed:
        settings.INVENTORY_PATCH_MAX_SKUS = 0
    _amazon_refuses_the_token(store)

    # when
    run = inventory_push_run(store=store)

    # then: a patch push records the refusal against the SKU and goes on; a feed push stops
    if by_feed:
        assert not run.ok and "needs re-authorization" in run.error
    else:
        assert run.counts["rejected"] == 1
    assert _needs_reauthorization(store)

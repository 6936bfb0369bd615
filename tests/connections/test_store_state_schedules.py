"""State changes made by compare-and-set UPDATEs still move the job schedules."""

import pytest
from django_q.models import Schedule

from connections.models import Store
from connections.services import store_finalize_authorization, store_mark_needs_reauthorization
from fulfillment.orders.schedules import order_pull_schedule_name
from sandbox.sellers import sandbox_seller_ensure
from tests.factories import make_store


@pytest.mark.django_db
def test_finalizing_a_merchant_authorization_schedules_the_order_pull(sandbox_app):
    # given: a store the merchant authorized, waiting for the warehouse
    store = make_store(authorization_status=Store.Authorization.AUTHORIZED_BY_MERCHANT)
    sandbox_seller_ensure(selling_partner_id=store.selling_partner_id, refresh_token=store.refresh_token)
    assert not Schedule.objects.filter(name=order_pull_schedule_name(store.pk)).exists()

    # when
    assert store_finalize_authorization(store=store).connected

    # then
    assert Schedule.objects.filter(name=order_pull_schedule_name(store.pk)).exists()


@pytest.mark.django_db
def test_a_store_needing_reauthorization_loses_its_schedules():
    store = make_store()
    assert Schedule.objects.filter(name=order_pull_schedule_name(store.pk)).exists()

    store_mark_needs_reauthorization(store=store, reason="invalid_grant")

    assert not Schedule.objects.filter(name=order_pull_schedule_name(store.pk)).exists()

"""Schedules at the store's push times in the warehouse's zone; the admin's buttons."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django_q.models import OrmQ, Schedule

from connections.models import Store
from fulfillment.inventory.admin_actions import push_inventory_now
from fulfillment.inventory.models import InventoryPush
from fulfillment.inventory.schedules import inventory_push_schedule_name, next_push_time
from fulfillment.inventory.tasks import inventory_push_task
from tests.inventory.factories import make_listing_state, make_push


def test_it_finds_the_next_push_time_in_the_warehouse_zone():
    times = [dt.time(6), dt.time(18)]
    # 2026-03-07 12:00 UTC is 07:00 in New York: next is 18:00 local = 23:00 UTC
    after = dt.datetime(2026, 3, 7, 12, tzinfo=dt.UTC)
    assert next_push_time(times=times, time_zone="America/New_York", after=after) == dt.datetime(
        2026, 3, 7, 23, tzinfo=dt.UTC
    )
    # across the DST change (8 March 2026): 06:00 local is 10:00 UTC, not 11:00
    after = dt.datetime(2026, 3, 8, 0, tzinfo=dt.UTC)
    assert next_push_time(times=times, time_zone="America/New_York", after=after) == dt.datetime(
        2026, 3, 8, 10, tzinfo=dt.UTC
    )


def test_saving_a_store_keeps_its_push_schedule_in_step(store):
    # given: the store fixture saved once
    schedule = Schedule.objects.get(name=inventory_push_schedule_name(store.pk))
    assert schedule.func == "fulfillment.inventory.tasks.inventory_push_task" and schedule.args == repr(
        store.pk
    )

    # when: a single push time
    store.inventory_push_times = "03:30"
    store.save()

    # then: next_run is 03:30 in New York
    schedule.refresh_from_db()
    assert schedule.next_run.astimezone(zoneinfo.ZoneInfo("America/New_York")).time() == dt.time(3, 30)
    store.save()
    assert Schedule.objects.filter(name=inventory_push_schedule_name(store.pk)).count() == 1

    # when: inventory sync is switched off
    store.inventory_sync_enabled = False
    store.save()

    # then
    assert not Schedule.objects.filter(name=inventory_push_schedule_name(store.pk)).exists()


def test_the_task_skips_a_store_without_inventory_sync(store):
    Store.objects.filter(pk=store.pk).update(inventory_sync_enabled=False)
    assert "skipped" in inventory_push_task(store.pk)


def test_push_inventory_now_queues_a_task_per_connected_store(rf, store, django_capture_on_commit_callbacks):
    # given
    class FakeAdmin:
        messages = []

        def message_user(self, request, text, level):
            self.messages.append(text)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        push_inventory_now(FakeAdmin(), rf.get("/"), Store.objects.filter(pk=store.pk))

    # then
    assert OrmQ.objects.count() == 1
    assert "queued for 1 store" in FakeAdmin.messages[0]


def test_the_admin_confirms_a_held_push_and_queues_it(
    admin_client, store, django_capture_on_commit_callbacks
):
    # given
    push = make_push(store=store, state=InventoryPush.State.AWAITING_CONFIRMATION)
    url = reverse("admin:inventory_inventorypush_changelist")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"action": "confirm_and_push", "_selected_action": [push.pk]})

    # then
    assert response.status_code == 302
    push.refresh_from_db()
    assert push.state == InventoryPush.State.BUILDING and push.confirmed_by is not None
    assert OrmQ.objects.count() == 1


def test_the_admin_cancels_a_held_push(admin_client, store):
    push = make_push(store=store, state=InventoryPush.State.AWAITING_CONFIRMATION)
    url = reverse("admin:inventory_inventorypush_changelist")

    admin_client.post(url, {"action": "cancel_push", "_selected_action": [push.pk]})

    push.refresh_from_db()
    assert push.state == InventoryPush.State.CANCELLED


@pytest.mark.django_db
def test_the_admin_shows_amazons_message_for_rejected_skus(admin_client, store):
    make_listing_state(store=store, sku="GHOST", last_error="SKU 'GHOST' does not exist. (4000001)")
    make_listing_state(store=store, sku="MUG", last_error="")

    response = admin_client.get(reverse("admin:inventory_listingstate_changelist") + "?answer=rejected")

    assert b"does not exist" in response.content and b"MUG" not in response.content

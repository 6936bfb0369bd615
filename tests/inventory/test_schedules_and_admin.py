"""Push schedules at the store's push times in the warehouse's zone; the admin's buttons."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django_q.models import OrmQ, Schedule

from connections.models import Store
from fulfillment.inventory.admin_actions import push_inventory_now
from fulfillment.inventory.models import InventoryPush
from fulfillment.inventory.tasks import inventory_push_task
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.schedules import inventory_push_schedule_name, next_push_time, schedules_sync
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


def _push_schedules(store) -> dict[str, Schedule]:
    return {s.name: s for s in Schedule.objects.filter(name__startswith=f"inventory-push:store:{store.pk}:")}


def test_saving_a_store_in_the_admin_keeps_its_push_schedules_in_step(store, rf, admin_user):
    from django.contrib import admin

    store_admin = admin.site._registry[Store]
    request = rf.post("/")
    request.user = admin_user
    new_york = zoneinfo.ZoneInfo("America/New_York")

    # when: a single push time, saved twice
    store.inventory_push_times = "03:30"
    store_admin.save_model(request, store, form=None, change=True)
    store_admin.save_model(request, store, form=None, change=True)

    # then: one schedule, next at 03:30 in the warehouse's New York
    (schedule,) = _push_schedules(store).values()
    assert schedule.name == inventory_push_schedule_name(store.pk, dt.time(3, 30))
    assert schedule.func == "fulfillment.inventory.tasks.inventory_push_task"
    assert schedule.args == repr(store.pk)
    assert schedule.next_run.astimezone(new_york).time() == dt.time(3, 30)

    # when: inventory sync is switched off
    store.inventory_sync_enabled = False
    store_admin.save_model(request, store, form=None, change=True)

    # then
    assert not _push_schedules(store)


def test_after_a_push_its_schedules_are_back_on_the_warehouse_s_wall_clock(store):
    # given: django-q2 stepped a day in the server's zone, an hour off in New York
    schedules_sync(store=store)
    name = inventory_push_schedule_name(store.pk, dt.time(6))
    wanted = Schedule.objects.get(name=name).next_run
    Schedule.objects.filter(name=name).update(next_run=wanted + dt.timedelta(hours=1))

    # when: the push runs (nothing to send), twice
    first, second = inventory_push_task(store.pk), inventory_push_task(store.pk)

    # then
    assert first["ok"] and second["ok"]
    assert SyncRun.objects.filter(kind=SyncRun.Kind.INVENTORY_PUSH, ok=True).count() == 2
    assert Schedule.objects.get(name=name).next_run == wanted


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


def test_the_held_push_page_lists_its_skus_and_offers_confirm_and_discard_not_save_and_delete(
    admin_client, store
):
    push = make_push(
        store=store,
        state=InventoryPush.State.AWAITING_CONFIRMATION,
        zeroing=1,
        dropping=1,
        guarded_skus=[["MUG", 40, 0], ["TEE", 50, 2]],
    )

    page = admin_client.get(reverse("admin:inventory_inventorypush_change", args=[push.pk])).content.decode()

    assert reverse("admin:inventory_inventorypush_confirm", args=[push.pk]) in page
    assert reverse("admin:inventory_inventorypush_discard", args=[push.pk]) in page
    assert "<code>MUG</code></td><td>40</td><td>0</td>" in page
    assert "<code>TEE</code></td><td>50</td><td>2</td>" in page
    assert 'name="_save"' not in page and "deletelink" not in page


def test_confirm_and_push_asks_then_confirms_and_queues_the_push(
    admin_client, store, django_capture_on_commit_callbacks
):
    # given
    push = make_push(
        store=store, state=InventoryPush.State.AWAITING_CONFIRMATION, zeroing=1, guarded_skus=[["MUG", 40, 0]]
    )
    url = reverse("admin:inventory_inventorypush_confirm", args=[push.pk])

    # when: GET shows what it would do and changes nothing
    asked = admin_client.get(url)
    assert asked.status_code == 200
    assert "<code>MUG</code></td><td>40</td><td>0</td>" in asked.content.decode()
    push.refresh_from_db()
    assert push.state == InventoryPush.State.AWAITING_CONFIRMATION and OrmQ.objects.count() == 0

    # when: POST
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url)

    # then
    assert response.status_code == 302
    push.refresh_from_db()
    assert push.state == InventoryPush.State.BUILDING and push.confirmed_by is not None
    assert OrmQ.objects.count() == 1
    # a second POST (another tab) changes nothing
    admin_client.post(url)
    assert OrmQ.objects.count() == 1


def test_discard_asks_then_discards_the_held_push(admin_client, store):
    push = make_push(store=store, state=InventoryPush.State.AWAITING_CONFIRMATION)
    url = reverse("admin:inventory_inventorypush_discard", args=[push.pk])

    assert admin_client.get(url).status_code == 200
    push.refresh_from_db()
    assert push.state == InventoryPush.State.AWAITING_CONFIRMATION

    admin_client.post(url)

    push.refresh_from_db()
    assert push.state == InventoryPush.State.CANCELLED and push.get_state_display() == "Discarded"
    assert "Discarded by a person (admin)" in push.error


def test_a_user_who_may_only_view_pushes_cannot_confirm_one(client, django_user_model, store):
    from django.contrib.auth.models import Permission

    push = make_push(store=store, state=InventoryPush.State.AWAITING_CONFIRMATION)
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_inventorypush"))
    client.force_login(viewer)

    response = client.post(reverse("admin:inventory_inventorypush_confirm", args=[push.pk]))

    assert response.status_code == 403
    push.refresh_from_db()
    assert push.state == InventoryPush.State.AWAITING_CONFIRMATION


@pytest.mark.django_db
def test_the_admin_shows_amazons_message_for_rejected_skus(admin_client, store):
    make_listing_state(store=store, sku="GHOST", last_error="SKU 'GHOST' does not exist. (4000001)")
    make_listing_state(store=store, sku="MUG", last_error="")

    response = admin_client.get(reverse("admin:inventory_listingstate_changelist") + "?answer=rejected")

    assert b"does not exist" in response.content and b"MUG" not in response.content

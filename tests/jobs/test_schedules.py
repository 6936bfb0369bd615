"""The schedule registry (fulfillment/jobs/schedules.py): what it declares, and a sync
that makes django-q2's Schedule table match it. Every sync here runs twice: the
second must change nothing."""

from __future__ import annotations

import ast
import datetime as dt
import io
import re
import zoneinfo
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from connections.models import Store
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.schedules import (
    GLOBAL_SCHEDULES,
    inventory_push_schedule_name,
    next_push_time,
    order_pull_schedule_name,
    order_reconcile_schedule_name,
    schedules_missing,
    schedules_sync,
)
from fulfillment.jobs.tasks import schedules_repair_task
from tests.factories import make_store, make_warehouse

NOTHING = {"created": 0, "updated": 0, "deleted": 0}
ROOT = Path(__file__).resolve().parents[2]


def _store_schedules(store) -> dict[str, Schedule]:
    return {s.name: s for s in Schedule.objects.filter(name__contains=f":store:{store.pk}")}


def _sync_twice(**kwargs) -> dict[str, int]:
    first = schedules_sync(**kwargs)
    assert schedules_sync(**kwargs) == NOTHING
    return first


@pytest.mark.django_db
def test_a_fresh_database_has_no_schedule_until_sync_schedules_makes_every_global_one():
    # given: migrated, as a fresh install: no migration creates a schedule
    assert not Schedule.objects.exists()

    # when: what bin/release and bin/demo run after migrate, twice
    out = io.StringIO()
    call_command("sync_schedules", stdout=out)
    call_command("sync_schedules", stdout=out)

    # then
    assert out.getvalue().splitlines() == [
        # no webhook: no sweep; no SQS_QUEUE_URL: no notification subscriptions
        f"schedules: {len(GLOBAL_SCHEDULES) - 2} created, 0 updated, 0 deleted",
        "schedules: 0 created, 0 updated, 0 deleted",
    ]
    schedules = {s.name: s for s in Schedule.objects.all()}
    assert set(schedules) == set(GLOBAL_SCHEDULES) - {"wms-webhook-sweep", "notification-subscriptions"}
    assert {name: (s.func, s.schedule_type, s.minutes) for name, s in schedules.items()} == {
        "ops-alerts-check": ("fulfillment.ops.tasks.alerts_check_task", Schedule.MINUTES, 5),
        "monitoring-heartbeat": ("fulfillment.monitoring.tasks.heartbeat_task", Schedule.MINUTES, 1),
        "personal-data-purge": ("fulfillment.privacy.tasks.personal_data_purge_task", Schedule.DAILY, None),
        "order-data-purge": ("fulfillment.privacy.tasks.order_data_purge_task", Schedule.DAILY, None),
        "authorization-records-purge": (
            "fulfillment.jobs.tasks.authorization_records_purge_task",
            Schedule.HOURLY,
            None,
        ),
        "schedules-repair": ("fulfillment.jobs.tasks.schedules_repair_task", Schedule.MINUTES, 5),
    }
    assert all(s.repeats == -1 and s.args is None and s.kwargs is None for s in schedules.values())
    assert schedules_missing() == []
    # the command went through the job runner: two runs operators can read
    assert SyncRun.objects.filter(kind=SyncRun.Kind.SCHEDULES_REPAIR, store=None, ok=True).count() == 2


@pytest.mark.django_db
def test_a_connected_store_gets_its_schedules_with_its_id_only(settings):
    settings.CONFIRMATION_SWEEP_MINUTES = 5
    warehouse = make_warehouse(time_zone="America/New_York")
    store = make_store(
        warehouse=warehouse,
        order_pull_minutes=15,
        inventory_sync_enabled=True,
        inventory_push_times="03:30,18:00",
    )
    now = timezone.now()

    assert _sync_twice(store=store) == {"created": 5, "updated": 0, "deleted": 0}

    schedules = _store_schedules(store)
    pull = schedules[f"order-pull:store:{store.pk}"]
    assert (pull.func, pull.schedule_type, pull.minutes, pull.repeats) == (
        "fulfillment.orders.tasks.order_pull_task",
        Schedule.MINUTES,
        15,
        -1,
    )
    assert pull.next_run <= timezone.now()  # a newly connected store downloads at once
    reconcile = schedules[f"order-reconcile:store:{store.pk}"]
    assert (reconcile.func, reconcile.schedule_type) == (
        "fulfillment.orders.tasks.order_reconcile_task",
        Schedule.DAILY,
    )
    assert reconcile.next_run >= now + dt.timedelta(hours=23)  # not on top of the first download
    sweep = schedules[f"shipment-confirm:store:{store.pk}"]
    assert (sweep.func, sweep.minutes) == ("fulfillment.shipments.tasks.confirmations_sweep_task", 5)
    new_york = zoneinfo.ZoneInfo("America/New_York")
    for at in (dt.time(3, 30), dt.time(18, 0)):
        push = schedules[inventory_push_schedule_name(store.pk, at)]
        assert (push.func, push.schedule_type) == (
            "fulfillment.inventory.tasks.inventory_push_task",
            Schedule.DAILY,
        )
        assert push.next_run.astimezone(new_york).time() == at
        assert now < push.next_run <= now + dt.timedelta(days=1)
    for schedule in schedules.values():
        assert ast.literal_eval(schedule.args) == store.pk and schedule.kwargs is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"is_active": False},
        {"authorization_status": Store.Authorization.NEEDS_REAUTHORIZATION},
        {"authorization_status": Store.Authorization.AWAITING_MERCHANT},
    ],
)
def test_a_store_no_job_may_run_for_has_no_schedules_until_it_is_back(change):
    store = make_store(inventory_sync_enabled=False)
    _sync_twice(store=store)
    back = {field: getattr(store, field) for field in change}

    Store.objects.filter(pk=store.pk).update(**change)
    store.refresh_from_db()
    assert _sync_twice(store=store) == {"created": 0, "updated": 0, "deleted": 3}
    assert not _store_schedules(store)

    Store.objects.filter(pk=store.pk).update(**back)
    store.refresh_from_db()
    assert _sync_twice(store=store)["created"] == 3


@pytest.mark.django_db
def test_a_shorter_download_interval_takes_effect_now():
    store = make_store(order_pull_minutes=60)
    _sync_twice(store=store)
    name = order_pull_schedule_name(store.pk)
    Schedule.objects.filter(name=name).update(next_run=timezone.now() + dt.timedelta(minutes=59))

    Store.objects.filter(pk=store.pk).update(order_pull_minutes=10)
    store.refresh_from_db()
    assert _sync_twice(store=store) == {"created": 0, "updated": 1, "deleted": 0}

    pull = Schedule.objects.get(name=name)
    assert pull.minutes == 10
    assert pull.next_run <= timezone.now() + dt.timedelta(minutes=10)


@pytest.mark.django_db
def test_the_sync_puts_back_a_deleted_or_edited_schedule():
    store = make_store()
    _sync_twice()
    Schedule.objects.filter(name=order_reconcile_schedule_name(store.pk)).delete()
    Schedule.objects.filter(name="ops-alerts-check").update(minutes=60, repeats=0, args="'someone'")
    Schedule.objects.filter(name=order_pull_schedule_name(store.pk)).update(
        schedule_type=Schedule.HOURLY, args=repr(store.pk + 1)
    )

    assert _sync_twice() == {"created": 1, "updated": 2, "deleted": 0}

    alerts = Schedule.objects.get(name="ops-alerts-check")
    assert (alerts.minutes, alerts.repeats, alerts.args) == (5, -1, None)
    pull = Schedule.objects.get(name=order_pull_schedule_name(store.pk))
    assert (pull.schedule_type, pull.args) == (Schedule.MINUTES, repr(store.pk))
    assert Schedule.objects.filter(name=order_reconcile_schedule_name(store.pk)).count() == 1


@pytest.mark.django_db
def test_a_schedule_whose_task_moved_gets_the_new_path():
    # given: rows made before the packages moved (fulfillment/tasks.py, confirmations/, ...)
    store = make_store()
    _sync_twice()
    old_paths = {
        order_pull_schedule_name(store.pk): "fulfillment.tasks.order_pull_task",
        f"shipment-confirm:store:{store.pk}": "fulfillment.confirmations.tasks.confirmations_sweep_task",
        "schedules-repair": "fulfillment.orders.tasks.store_schedules_sync_task",
        "authorization-records-purge": "connections.tasks.authorization_records_purge_task",
    }
    for name, func in old_paths.items():
        Schedule.objects.filter(name=name).update(func=func)

    assert _sync_twice() == {"created": 0, "updated": 4, "deleted": 0}

    funcs = dict(Schedule.objects.filter(name__in=old_paths).values_list("name", "func"))
    assert funcs == {
        order_pull_schedule_name(store.pk): "fulfillment.orders.tasks.order_pull_task",
        f"shipment-confirm:store:{store.pk}": "fulfillment.shipments.tasks.confirmations_sweep_task",
        "schedules-repair": "fulfillment.jobs.tasks.schedules_repair_task",
        "authorization-records-purge": "fulfillment.jobs.tasks.authorization_records_purge_task",
    }
    from django.utils.module_loading import import_string

    for func in Schedule.objects.values_list("func", flat=True):
        assert callable(import_string(func)), func


@pytest.mark.django_db
def test_the_sync_deletes_what_it_no_longer_declares_and_leaves_other_schedules_alone():
    store = make_store(inventory_sync_enabled=True, inventory_push_times="06:00")
    gone = make_store(inventory_sync_enabled=False)
    _sync_twice()
    Store.objects.filter(pk=gone.pk).delete()  # in bulk: no admin, no service
    leftovers = [
        "store-schedules-sync",  # the old order-schedule sweep, replaced by schedules-repair
        f"inventory-push:store:{store.pk}",  # the old single push schedule of a store
        f"order-pull:store:{store.pk}",  # a duplicate, as two racing syncs could leave
    ]
    for name in leftovers:
        Schedule.objects.create(name=name, func="fulfillment.tasks.order_pull_task", args=repr(store.pk))
    Schedule.objects.create(name="someone-elses", func="math.floor", args="1")

    assert _sync_twice() == {"created": 0, "updated": 0, "deleted": 3 + 3}

    names = set(Schedule.objects.values_list("name", flat=True))
    assert not [n for n in names if n.endswith(f":store:{gone.pk}")]
    assert {n for n in names if f":store:{store.pk}" in n} == {
        f"order-pull:store:{store.pk}",
        f"order-reconcile:store:{store.pk}",
        f"shipment-confirm:store:{store.pk}",
        f"inventory-push:store:{store.pk}:0600",
    }
    assert Schedule.objects.filter(name=f"order-pull:store:{store.pk}").count() == 1
    assert "someone-elses" in names and "store-schedules-sync" not in names


@pytest.mark.django_db
def test_the_webhook_sweep_is_scheduled_while_a_warehouse_has_an_enabled_webhook():
    from fulfillment.wms.models import WarehouseWebhook

    _sync_twice()
    assert not Schedule.objects.filter(name="wms-webhook-sweep").exists()
    warehouse = make_warehouse()
    webhook = WarehouseWebhook.objects.create(warehouse=warehouse, url="https://wms.test/hook", secret="s")
    assert _sync_twice() == NOTHING  # a warehouse without stores has no order to deliver
    make_store(warehouse=warehouse, is_active=False)

    assert _sync_twice() == {"created": 1, "updated": 0, "deleted": 0}
    sweep = Schedule.objects.get(name="wms-webhook-sweep")
    assert (sweep.func, sweep.minutes) == ("fulfillment.wms.tasks.webhook_sweep_task", 1)

    WarehouseWebhook.objects.filter(pk=webhook.pk).update(enabled=False)
    assert _sync_twice() == {"created": 0, "updated": 0, "deleted": 1}


@pytest.mark.django_db
def test_a_push_time_drifted_by_a_dst_change_is_put_back_but_a_due_one_is_left_to_run():
    warehouse = make_warehouse(time_zone="Europe/Berlin")
    store = make_store(warehouse=warehouse, inventory_sync_enabled=True, inventory_push_times="04:00,16:00")
    _sync_twice(store=store)
    early, late = (inventory_push_schedule_name(store.pk, dt.time(h, 0)) for h in (4, 16))
    wanted = Schedule.objects.get(name=early).next_run
    # django-q2 stepped a day in the server's zone: an hour off in Berlin
    Schedule.objects.filter(name=early).update(next_run=wanted + dt.timedelta(hours=1))
    # and the other is due right now (the cluster has not picked it up yet)
    due = timezone.now() - dt.timedelta(seconds=5)
    Schedule.objects.filter(name=late).update(next_run=due)

    assert _sync_twice(store=store) == {"created": 0, "updated": 1, "deleted": 0}

    assert Schedule.objects.get(name=early).next_run == wanted
    assert Schedule.objects.get(name=late).next_run == due


def test_the_next_push_time_follows_the_warehouse_s_wall_clock_across_dst():
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    # the night clocks go forward in Berlin (2026-03-29)
    before = dt.datetime(2026, 3, 28, 5, 0, tzinfo=berlin)

    after = next_push_time(times=[dt.time(4, 0)], time_zone="Europe/Berlin", after=before)

    assert after.astimezone(berlin) == dt.datetime(2026, 3, 29, 4, 0, tzinfo=berlin)
    assert after - before == dt.timedelta(hours=22)  # not the 24 hours a UTC day step gives


@pytest.mark.django_db
def test_the_repair_job_syncs_everything_and_writes_a_run():
    store = make_store(inventory_sync_enabled=False)
    Schedule.objects.all().delete()

    first = schedules_repair_task()
    second = schedules_repair_task()

    runs = list(SyncRun.objects.filter(kind=SyncRun.Kind.SCHEDULES_REPAIR).order_by("pk"))
    assert first == {"sync_run": runs[0].pk, "ok": True, "created": 6 + 3, "updated": 0, "deleted": 0}
    assert second == {"sync_run": runs[1].pk, "ok": True, **NOTHING}
    assert runs[0].store is None and len(_store_schedules(store)) == 3


# --- Nothing else creates schedules -------------------------------------------------------

_CREATES_SCHEDULES = re.compile(
    r"Schedule\.objects\.(create|update_or_create|get_or_create|bulk_create)"
    r"|\bSchedule\("
    r"|get_model\(\s*[\"']django_q[\"']\s*,\s*[\"']Schedule[\"']\s*\)"
    r"|from django_q\.tasks import[^\n]*\bschedule\b"
    r"|django_q\.tasks\.schedule\("
)
_PRODUCT = ("fulfillment", "connections", "mappings", "sandbox", "bin", "bench")


def _product_sources() -> list[Path]:
    files = []
    for top in _PRODUCT:
        files += [p for p in (ROOT / top).rglob("*") if p.is_file() and (p.suffix == ".py" or top == "bin")]
    return files


def test_no_module_but_the_registry_creates_schedules():
    sources = _product_sources()
    assert len(sources) > 100  # the walk found the code

    creators = sorted(
        str(path.relative_to(ROOT))
        for path in sources
        if _CREATES_SCHEDULES.search(path.read_text(encoding="utf-8", errors="replace"))
    )

    assert creators == ["fulfillment/jobs/schedules.py"]


def test_the_grep_would_see_each_old_way_of_creating_a_schedule():
    old_ways = [
        'Schedule.objects.update_or_create(name=NAME, defaults={"func": f})',
        'apps.get_model("django_q", "Schedule").objects.filter(name=n)',
        "from django_q.tasks import async_task, schedule",
        "Schedule(name=n, func=f).save()",
    ]
    assert all(_CREATES_SCHEDULES.search(line) for line in old_ways)


def test_no_receiver_keeps_schedules_in_step_with_stores():
    from django.db.models.signals import post_delete, post_save

    for signal in (post_save, post_delete):
        receivers = list(signal._live_receivers(Store)[0])
        modules = {getattr(r, "__module__", "") for r in receivers}
        assert not [m for m in modules if m.startswith(("fulfillment", "connections"))], modules

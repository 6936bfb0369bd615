"""The schedule registry: every django-q2 schedule the bridge runs is declared here,
and `schedules_sync` makes django-q2's Schedule rows match it.

Per store, while the store is active and connected to Amazon (each task in
the package's tasks.py; the name is the schedule's):

- `order-pull:store:<id>`: the order download, every `store.order_pull_minutes`
  (at least hourly while the store's ORDER_CHANGE subscription is active: the
  notifications bring the orders, the download is the safety net);
- `order-reconcile:store:<id>`: the reconciliation, daily, the first a day
  after the store connected;
- `shipment-confirm:store:<id>`: the confirmation sweep, every
  CONFIRMATION_SWEEP_MINUTES;
- `inventory-push:store:<id>:<HHMM>`: the inventory push, daily at each of
  the store's push times in its warehouse's time zone, while its inventory
  sync is on.

For every store at once: `wms-webhook-sweep` (every minute, while a
warehouse has an enabled webhook), `ops-alerts-check` (5 minutes),
`monitoring-heartbeat` (every minute), `personal-data-purge` and
`order-data-purge` (daily), `authorization-records-purge` (hourly),
`notification-subscriptions` (5 minutes, while SQS_QUEUE_URL is set) and
`schedules-repair` (5 minutes: this sync, catching whatever changed without
calling it, e.g. a store deleted in bulk or a warehouse's time zone).

Nothing else creates schedules: no signal, data migration or task does
(tests/jobs/test_schedules.py greps for it). `schedules_sync` is called
explicitly where what a schedule depends on changes: where a store is
connected or disconnected (the Store admin's save, delete, Finalize and Test
connection, the consent callback, `connect_store`; connections' services sit
below the jobs and leave it to these callers), the inventory settings and
webhook admins, the job runner after a failed run (the store's token may have
been refused) and after every inventory push, `manage.py sync_schedules`
(bin/release and bin/demo run it after migrate) and the repair job.

Schedules are found by their stable names and carry only ids (django-q2
stores arguments: never buyer data). Syncing writes only what differs, so a
second sync changes nothing; a schedule edited or deleted by hand, or one
whose task moved to another module, is put back as declared; rows under the
registry's names that it no longer declares are deleted.

The inventory push runs at wall-clock times of the warehouse's zone, which
django-q2 cannot express (its DAILY step follows the server's zone across
DST, its cron the server's clock): each push time is a DAILY schedule whose
next run the sync moves back onto the wall-clock time whenever it drifted
(never while it is due, so a run is neither lost nor doubled).
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.models import Schedule

from connections.models import Store

logger = logging.getLogger(__name__)

ORDER_PULL_TASK = "fulfillment.orders.tasks.order_pull_task"
ORDER_RECONCILE_TASK = "fulfillment.orders.tasks.order_reconcile_task"
CONFIRMATION_SWEEP_TASK = "fulfillment.shipments.tasks.confirmations_sweep_task"
INVENTORY_PUSH_TASK = "fulfillment.inventory.tasks.inventory_push_task"
WEBHOOK_SWEEP_TASK = "fulfillment.wms.tasks.webhook_sweep_task"
ALERTS_TASK = "fulfillment.ops.tasks.alerts_check_task"
HEARTBEAT_TASK = "fulfillment.monitoring.tasks.heartbeat_task"
PERSONAL_DATA_PURGE_TASK = "fulfillment.privacy.tasks.personal_data_purge_task"
ORDER_DATA_PURGE_TASK = "fulfillment.privacy.tasks.order_data_purge_task"
AUTHORIZATION_PURGE_TASK = "fulfillment.jobs.tasks.authorization_records_purge_task"
SCHEDULES_REPAIR_TASK = "fulfillment.jobs.tasks.schedules_repair_task"

WEBHOOK_SWEEP_SCHEDULE = "wms-webhook-sweep"
ALERTS_SCHEDULE = "ops-alerts-check"
HEARTBEAT_SCHEDULE = "monitoring-heartbeat"
PERSONAL_DATA_PURGE_SCHEDULE = "personal-data-purge"
ORDER_DATA_PURGE_SCHEDULE = "order-data-purge"
AUTHORIZATION_PURGE_SCHEDULE = "authorization-records-purge"
SCHEDULES_REPAIR_SCHEDULE = "schedules-repair"
NOTIFICATION_SUBSCRIPTIONS_TASK = "fulfillment.orders.tasks.notification_subscriptions_sync_task"
NOTIFICATION_SUBSCRIPTIONS_SCHEDULE = "notification-subscriptions"
NOTIFICATION_SUBSCRIPTION_SETUP_TASK = "fulfillment.orders.tasks.notification_subscription_setup_task"
GLOBAL_SCHEDULES = (
    WEBHOOK_SWEEP_SCHEDULE,
    ALERTS_SCHEDULE,
    HEARTBEAT_SCHEDULE,
    PERSONAL_DATA_PURGE_SCHEDULE,
    ORDER_DATA_PURGE_SCHEDULE,
    AUTHORIZATION_PURGE_SCHEDULE,
    SCHEDULES_REPAIR_SCHEDULE,
    NOTIFICATION_SUBSCRIPTIONS_SCHEDULE,
)
ALERTS_EVERY_MINUTES = 5
REPAIR_EVERY_MINUTES = 5
# Names the registry used before and declares no more: deleted by the sync.
RETIRED_SCHEDULES = ("store-schedules-sync",)

_PULL = "order-pull:store:"
_RECONCILE = "order-reconcile:store:"
_CONFIRM = "shipment-confirm:store:"
_PUSH = "inventory-push:store:"
_STORE_PREFIXES = (_PULL, _RECONCILE, _CONFIRM, _PUSH)


def order_pull_schedule_name(store_id: int) -> str:
    return f"{_PULL}{store_id}"


def order_reconcile_schedule_name(store_id: int) -> str:
    return f"{_RECONCILE}{store_id}"


def confirmation_sweep_schedule_name(store_id: int) -> str:
    return f"{_CONFIRM}{store_id}"


def inventory_push_schedule_name(store_id: int, at: dt.time) -> str:
    return f"{_PUSH}{store_id}:{at:%H%M}"


@dataclass(frozen=True)
class ScheduleSpec:
    """One schedule as the registry wants it."""

    name: str
    func: str
    schedule_type: str
    minutes: int | None = None
    args: str | None = None  # repr() of the arguments: ids only
    first_run: dt.datetime | None = None  # a new row's first run (None: at once)
    run_at: dt.datetime | None = None  # wall-clock schedules: the next run it must have
    no_later_than: dt.datetime | None = None  # a shorter interval takes effect now

    def fields(self) -> dict:
        return {
            "func": self.func,
            "args": self.args,
            "kwargs": None,
            "schedule_type": self.schedule_type,
            "minutes": self.minutes,
            "repeats": -1,
        }


def next_push_time(*, times: list[dt.time], time_zone: str, after: dt.datetime) -> dt.datetime | None:
    """The first of the daily `times` (wall clock in `time_zone`) strictly after `after`, in UTC."""
    if not times:
        return None
    zone = zoneinfo.ZoneInfo(time_zone)
    local = after.astimezone(zone)
    candidates = []
    for days in (0, 1, 2):
        day = local.date() + dt.timedelta(days=days)
        for t in times:
            # fold=0: in the repeated hour of a DST change, the first occurrence.
            when = dt.datetime.combine(day, t, tzinfo=zone)
            if when.astimezone(dt.UTC) > after.astimezone(dt.UTC):
                candidates.append(when.astimezone(dt.UTC))
    return min(candidates) if candidates else None


# --- The declarations --------------------------------------------------------------------

# The download's interval while ORDER_CHANGE notifications bring the orders (a safety net).
NOTIFIED_ORDER_PULL_MINUTES = 60
NOTIFICATION_SUBSCRIPTIONS_EVERY_MINUTES = 5


def order_pull_minutes(store: Store) -> int:
    """The store's setting; at least hourly while its ORDER_CHANGE subscription is healthy."""
    if settings.SQS_QUEUE_URL:
        from connections.models import NotificationSubscription

        healthy = NotificationSubscription.objects.filter(
            store=store, state=NotificationSubscription.State.ACTIVE
        ).exists()
        if healthy:
            return max(store.order_pull_minutes, NOTIFIED_ORDER_PULL_MINUTES)
    return store.order_pull_minutes


def store_schedules_wanted(store: Store, *, now: dt.datetime) -> list[ScheduleSpec]:
    """The schedules of one store (none unless it is active and connected)."""
    if not (store.is_active and store.is_connected):
        return []
    args = repr(store.pk)
    pull_minutes = order_pull_minutes(store)
    wanted = [
        ScheduleSpec(
            order_pull_schedule_name(store.pk),
            ORDER_PULL_TASK,
            Schedule.MINUTES,
            minutes=pull_minutes,
            args=args,
            no_later_than=now + dt.timedelta(minutes=pull_minutes),
        ),
        ScheduleSpec(
            order_reconcile_schedule_name(store.pk),
            ORDER_RECONCILE_TASK,
            Schedule.DAILY,
            args=args,
            # Not on top of the first download.
            first_run=now + dt.timedelta(days=1),
        ),
        ScheduleSpec(
            confirmation_sweep_schedule_name(store.pk),
            CONFIRMATION_SWEEP_TASK,
            Schedule.MINUTES,
            minutes=settings.CONFIRMATION_SWEEP_MINUTES,
            args=args,
        ),
    ]
    if store.inventory_sync_enabled:
        for at in sorted(set(store.push_times)):
            run_at = next_push_time(times=[at], time_zone=store.warehouse.time_zone, after=now)
            wanted.append(
                ScheduleSpec(
                    inventory_push_schedule_name(store.pk, at),
                    INVENTORY_PUSH_TASK,
                    Schedule.DAILY,
                    args=args,
                    first_run=run_at,
                    run_at=run_at,
                )
            )
    return wanted


def global_schedules_wanted(*, now: dt.datetime) -> list[ScheduleSpec]:
    """The schedules of jobs that run for every store at once."""
    wanted = [
        ScheduleSpec(ALERTS_SCHEDULE, ALERTS_TASK, Schedule.MINUTES, minutes=ALERTS_EVERY_MINUTES),
        ScheduleSpec(HEARTBEAT_SCHEDULE, HEARTBEAT_TASK, Schedule.MINUTES, minutes=1),
        ScheduleSpec(PERSONAL_DATA_PURGE_SCHEDULE, PERSONAL_DATA_PURGE_TASK, Schedule.DAILY),
        ScheduleSpec(ORDER_DATA_PURGE_SCHEDULE, ORDER_DATA_PURGE_TASK, Schedule.DAILY),
        ScheduleSpec(AUTHORIZATION_PURGE_SCHEDULE, AUTHORIZATION_PURGE_TASK, Schedule.HOURLY),
        ScheduleSpec(
            SCHEDULES_REPAIR_SCHEDULE, SCHEDULES_REPAIR_TASK, Schedule.MINUTES, minutes=REPAIR_EVERY_MINUTES
        ),
    ]
    if settings.SQS_QUEUE_URL:
        # Subscribes connected stores to ORDER_CHANGE and unsubscribes the others.
        wanted.append(
            ScheduleSpec(
                NOTIFICATION_SUBSCRIPTIONS_SCHEDULE,
                NOTIFICATION_SUBSCRIPTIONS_TASK,
                Schedule.MINUTES,
                minutes=NOTIFICATION_SUBSCRIPTIONS_EVERY_MINUTES,
            )
        )
    # Through the stores' warehouses (the registry reads stores, not the wms package's models):
    # a webhook of a warehouse without stores has no order to deliver.
    if Store.objects.filter(warehouse__webhook__enabled=True).exists():
        wanted.append(ScheduleSpec(WEBHOOK_SWEEP_SCHEDULE, WEBHOOK_SWEEP_TASK, Schedule.MINUTES, minutes=1))
    return wanted


def _owned(store_id: int | None) -> Q:
    """The Schedule rows the sync looks after: one store's, or every row under the registry's names."""
    if store_id is not None:
        names = [f"{prefix}{store_id}" for prefix in _STORE_PREFIXES]  # the push's old, single name too
        return Q(name__in=names) | Q(name__startswith=f"{_PUSH}{store_id}:")
    owned = Q(name__in=[*GLOBAL_SCHEDULES, *RETIRED_SCHEDULES])
    for prefix in _STORE_PREFIXES:
        owned |= Q(name__startswith=prefix)
    return owned


def schedules_wanted(*, store: Store | None = None, now: dt.datetime | None = None) -> list[ScheduleSpec]:
    """Every schedule the registry declares now (or only `store`'s)."""
    now = now or timezone.now()
    if store is not None:
        return store_schedules_wanted(store, now=now)
    wanted = global_schedules_wanted(now=now)
    for each in Store.objects.select_related("warehouse").order_by("pk"):
        wanted.extend(store_schedules_wanted(each, now=now))
    return wanted


# --- The sync ------------------------------------------------------------------------------


def _next_run(spec: ScheduleSpec, row: Schedule, *, now: dt.datetime) -> dt.datetime | None:
    """The next run to set on an existing row, or None to leave it."""
    due = row.next_run is not None and row.next_run <= now
    if spec.run_at is not None and not due and row.next_run != spec.run_at:
        return spec.run_at
    if spec.no_later_than is not None and (row.next_run is None or row.next_run > spec.no_later_than):
        return spec.no_later_than
    return None


def schedules_sync(*, store: Store | None = None, now: dt.datetime | None = None) -> dict[str, int]:
    """Make the Schedule rows match the registry: every schedule (or only `store`'s).

    Creates what is missing, puts back what differs (task path, arguments,
    interval, repeats; the next run where it matters), deletes duplicates and
    rows under the registry's names it no longer declares. Returns how many
    rows were created, updated and deleted; a second call returns zeros.
    """
    now = now or timezone.now()
    if store is not None and store.pk is None:
        store = None  # a store deleted by the caller: the whole sync finds its schedules orphaned
    store_id = store.pk if store is not None else None
    if store is not None:
        # As it is now, whatever the caller holds (a stale copy, or one deleted meanwhile).
        store = Store.objects.select_related("warehouse").filter(pk=store_id).first()
        wanted = {spec.name: spec for spec in (store_schedules_wanted(store, now=now) if store else [])}
    else:
        wanted = {spec.name: spec for spec in schedules_wanted(now=now)}
    changes: Counter[str] = Counter(created=0, updated=0, deleted=0)
    with transaction.atomic():
        rows: dict[str, Schedule] = {}
        extra: list[int] = []
        for row in Schedule.objects.filter(_owned(store_id)).order_by("pk"):
            if row.name in rows:
                extra.append(row.pk)  # two syncs that raced each created it: keep the first
            else:
                rows[row.name] = row
        extra += [row.pk for name, row in rows.items() if name not in wanted]
        if extra:
            changes["deleted"] += Schedule.objects.filter(pk__in=extra).delete()[0]
        for name, spec in wanted.items():
            row = rows.get(name)
            if row is None:
                Schedule.objects.create(name=name, next_run=spec.first_run or now, **spec.fields())
                changes["created"] += 1
                continue
            update = {f: v for f, v in spec.fields().items() if getattr(row, f) != v}
            next_run = _next_run(spec, row, now=now)
            if next_run is not None:
                update["next_run"] = next_run
            if update:
                Schedule.objects.filter(pk=row.pk).update(**update)
                changes["updated"] += 1
    if changes["created"] or changes["updated"] or changes["deleted"]:
        logger.info("schedules in step: %s", ", ".join(f"{v} {k}" for k, v in changes.items()))
    if store is not None and settings.SQS_QUEUE_URL:
        _notification_setup_when_due(store)
    return dict(changes)


def _notification_setup_when_due(store: Store) -> None:
    """A store just connected (or disconnected) is subscribed (or unsubscribed) at once
    by a task, not at the next `notification-subscriptions` run. A failed attempt is
    left to that schedule, so a refusal cannot loop."""
    from connections.models import NotificationSubscription

    State = NotificationSubscription.State
    state = NotificationSubscription.objects.filter(store=store).values_list("state", flat=True).first()
    wanted = store.is_active and store.is_connected
    if (wanted and state in (None, State.PENDING, State.REMOVED)) or (not wanted and state == State.ACTIVE):
        from django_q.tasks import async_task

        store_id = store.pk
        transaction.on_commit(lambda: async_task(NOTIFICATION_SUBSCRIPTION_SETUP_TASK, store_id))


def schedules_missing(*, now: dt.datetime | None = None) -> list[str]:
    """Names of the schedules the registry declares that are not in the table (the health check)."""
    names = {spec.name for spec in schedules_wanted(now=now)}
    present = set(Schedule.objects.filter(name__in=names).values_list("name", flat=True))
    return sorted(names - present)

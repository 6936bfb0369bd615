"""Alerts by email to each warehouse's operations address, each one once.

`alerts_check` runs every few minutes (fulfillment/jobs/schedules.py). Every alert
has a key naming what it is about; the unique (kind, key) `AlertSent` row is
inserted before the email goes, in the same transaction, so:
- a second run (or a second worker at the same time) finds the row and sends
  nothing: the insert waits on the first and then fails the unique check;
- a mail server error rolls the row back, so the next run tries again.
Nothing is claimed while the warehouse has no operations address: the alert
goes out once one is set.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from connections.models import Store
from connections.services import store_send_authorization_link
from fulfillment.jobs.errors import job_failure
from fulfillment.jobs.models import SyncRun
from fulfillment.ops.models import AlertSent
from fulfillment.orders.models import Order, UnreadableOrder
from fulfillment.orders.services.ship_risk import ShipRisk, ship_risk_q, shipping_calendars
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.shipments.services.confirmations import confirmation_alert

logger = logging.getLogger(__name__)

Kind = AlertSent.Kind


@dataclass
class AlertsReport:
    reauthorization: int = 0
    job_failing: int = 0
    confirmation_rejected: int = 0
    ship_by_near: int = 0
    unreadable_orders: int = 0
    # Checks that raised (their safe messages): the others ran; the next run tries again.
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "errors"}


def _admin_url(name: str, *args) -> str:
    return settings.PUBLIC_BASE_URL + reverse(name, args=args)


def alert_send_once(
    *,
    kind: str,
    key: str,
    store: Store | None,
    recipients: list[str],
    subject: str,
    body: str,
    now: dt.datetime,
    also=None,
) -> bool:
    """Claim (kind, key) and email it; False when it was sent before. `also` runs
    inside the claim (e.g. the merchant's authorization link), so it happens once too."""
    recipients = [r for r in recipients if r]
    if not recipients:
        return False
    with transaction.atomic():
        try:
            with transaction.atomic():
                AlertSent.objects.create(
                    kind=kind,
                    key=key[:200],
                    store=store,
                    recipients=", ".join(recipients)[:500],
                    subject=subject[:300],
                    sent_at=now,
                )
        except IntegrityError:
            return False
        # An error here rolls the claim back: the next run sends it instead.
        if also is not None:
            also()
        send_mail(subject, body, None, recipients)
    return True


def _ops_email(store: Store) -> str:
    return store.warehouse.operations_email


# --- Store needs re-authorization --------------------------------------------------------


def alerts_reauthorization(*, now: dt.datetime) -> int:
    sent = 0
    stores = Store.objects.filter(
        is_active=True, authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION
    ).select_related("warehouse", "marketplace", "merchant")
    for store in stores:
        # One alert per lost authorization: a store authorized again and lost again alerts again.
        key = f"store:{store.pk}:authorized:{store.authorized_at.isoformat() if store.authorized_at else '-'}"
        merchant_email = store.merchant_email or (store.merchant.email if store.merchant else "")

        def send_link(store=store, merchant_email=merchant_email):
            if merchant_email:
                store_send_authorization_link(store=store, email=merchant_email)

        body = render_to_string(
            "ops/alert_reauthorization.txt",
            {
                "store": store,
                "merchant_email": merchant_email,
                "store_url": _admin_url("admin:connections_store_change", store.pk),
            },
        )
        sent += alert_send_once(
            kind=Kind.REAUTHORIZATION,
            key=key,
            store=store,
            recipients=[_ops_email(store)],
            subject=f"Store {store.name} needs re-authorization with Amazon",
            body=body,
            now=now,
            also=send_link,
        )
    return sent


# --- A job failing repeatedly --------------------------------------------------------------


def _failure_threshold() -> int:
    return settings.OPS_ALERT_JOB_FAILURES


def alerts_job_failing(*, now: dt.datetime) -> int:
    """Alert when a store's job failed its last N finished runs (one alert per streak)."""
    n = _failure_threshold()
    recent = list(
        SyncRun.objects.filter(
            store__isnull=False, ok__isnull=False, started_at__gte=now - dt.timedelta(days=7)
        )
        .annotate(
            position=Window(
                RowNumber(), partition_by=[F("store_id"), F("kind")], order_by=F("started_at").desc()
            )
        )
        .filter(position__lte=n)
        .values("pk", "store_id", "kind", "ok", "error")
    )
    streaks: dict[tuple[int, str], list[dict]] = {}
    for run in recent:
        streaks.setdefault((run["store_id"], run["kind"]), []).append(run)
    failing = {k: runs for k, runs in streaks.items() if len(runs) == n and not any(r["ok"] for r in runs)}
    if not failing:
        return 0
    stores = Store.objects.select_related("warehouse").in_bulk({store_id for store_id, _ in failing})
    sent = 0
    for (store_id, kind), runs in failing.items():
        store = stores[store_id]
        # The streak is named by the last success before it, so it alerts once however long it lasts.
        last_ok = (
            SyncRun.objects.filter(store_id=store_id, kind=kind, ok=True)
            .order_by("-started_at")
            .values_list("pk", flat=True)
            .first()
        )
        label = SyncRun.Kind(kind).label
        body = render_to_string(
            "ops/alert_job_failing.txt",
            {
                "store": store,
                "kind": label,
                "count": n,
                "last_error": runs[0]["error"],
                "runs_url": _admin_url("admin:jobs_syncrun_changelist")
                + f"?store__id__exact={store_id}&kind__exact={kind}",
            },
        )
        sent += alert_send_once(
            kind=Kind.JOB_FAILING,
            key=f"store:{store_id}:{kind}:after:{last_ok or 0}",
            store=store,
            recipients=[_ops_email(store)],
            subject=f"{label} for {store.name} failed {n} times in a row",
            body=body,
            now=now,
        )
    return sent


# --- Rejected shipment confirmations --------------------------------------------------------


def alerts_confirmation_rejected(*, now: dt.datetime) -> int:
    """The confirmations app emails each rejection once (`alerted_at`); this only
    catches rejections it could not email then (no operations address yet)."""
    pending = (
        ShipmentConfirmation.objects.filter(
            state=ShipmentConfirmation.State.REJECTED,
            alerted_at__isnull=True,
        )
        .exclude(store__warehouse__operations_email="")
        .select_related("store__warehouse", "order", "shipment")
    )
    return sum(confirmation_alert(confirmation=c) for c in pending)


# --- Orders near their ship-by with nothing shipped -----------------------------------------


def alerts_ship_by_near(*, now: dt.datetime) -> int:
    """One email per store listing its orders newly *at risk* with no package yet; each order once.

    At risk is the rule of the orders list and the dashboard (services/ship_risk.py):
    at most one carrier cut-off of the warehouse's calendar is left before the ship-by.
    """
    calendars = shipping_calendars(now=now)
    orders = (
        Order.objects.filter(
            ship_risk_q(ShipRisk.AT_RISK, now=now, calendars=calendars),
            status__in=Order.UNSHIPPED_STATUSES,
            shipments__isnull=True,
        )
        .select_related("store__warehouse")
        .order_by("store_id", "ship_by_latest")
    )
    by_store: dict[int, list[Order]] = {}
    for order in orders:
        by_store.setdefault(order.store_id, []).append(order)
    sent = 0
    for store_orders in by_store.values():
        store = store_orders[0].store
        email = _ops_email(store)
        if not email:
            continue
        with transaction.atomic():
            fresh = [o for o in store_orders if _claim(Kind.SHIP_BY_NEAR, f"order:{o.pk}", store, email, now)]
            if not fresh:
                continue
            body = render_to_string(
                "ops/alert_ship_by.txt",
                {"store": store, "orders": fresh, "base_url": settings.PUBLIC_BASE_URL},
            )
            send_mail(
                f"{len(fresh)} order(s) of {store.name} are at risk of missing their ship-by "
                "and have no package yet",
                body,
                None,
                [email],
            )
            sent += len(fresh)
    return sent


# --- Orders the download could not read ---------------------------------------------------


def alerts_unreadable_orders(*, now: dt.datetime) -> int:
    """One email per store listing its newly unreadable orders; each row once.
    The email names the order, the field and the reason: never a value of the order."""
    rows = (
        UnreadableOrder.objects.filter(resolved_at__isnull=True)
        .exclude(store__warehouse__operations_email="")
        .select_related("store__warehouse")
        .order_by("store_id", "first_seen_at", "pk")
    )
    by_store: dict[int, list[UnreadableOrder]] = {}
    for row in rows:
        by_store.setdefault(row.store_id, []).append(row)
    sent = 0
    for store_rows in by_store.values():
        store = store_rows[0].store
        email = _ops_email(store)
        with transaction.atomic():
            fresh = [
                r
                for r in store_rows
                if _claim(Kind.UNREADABLE_ORDER, f"unreadable:{r.pk}", store, email, now)
            ]
            if not fresh:
                continue
            body = render_to_string(
                "ops/alert_unreadable_orders.txt",
                {
                    "store": store,
                    "rows": fresh,
                    "list_url": _admin_url("admin:fulfillment_unreadableorder_changelist")
                    + f"?open=yes&store__id__exact={store.pk}",
                },
            )
            send_mail(
                f"{len(fresh)} Amazon order(s) of {store.name} could not be read and were set aside",
                body,
                None,
                [email],
            )
            sent += len(fresh)
    return sent


def _claim(kind: str, key: str, store: Store, email: str, now: dt.datetime) -> bool:
    try:
        with transaction.atomic():
            AlertSent.objects.create(kind=kind, key=key, store=store, recipients=email, sent_at=now)
    except IntegrityError:
        return False
    return True


def alerts_check(*, now: dt.datetime | None = None) -> AlertsReport:
    """Every check; one failing check (e.g. the mail server) does not stop the others."""
    now = now or timezone.now()
    report = AlertsReport()
    for name, check in (
        ("reauthorization", alerts_reauthorization),
        ("job_failing", alerts_job_failing),
        ("confirmation_rejected", alerts_confirmation_rejected),
        ("ship_by_near", alerts_ship_by_near),
        ("unreadable_orders", alerts_unreadable_orders),
    ):
        try:
            setattr(report, name, check(now=now))
        except Exception as exc:
            report.errors.append(
                f"{name}: " + job_failure(logger, f"alert check {name} (the next run tries again)", exc)
            )
    return report

"""The dashboard's "missed by notifications", per store per day."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from connections.models import NotificationSubscription
from fulfillment.jobs.models import SyncRun


def _run(store, *, days_ago: int, missed: int):
    now = timezone.now() - dt.timedelta(days=days_ago)
    SyncRun.objects.create(
        store=store,
        kind=SyncRun.Kind.ORDER_PULL,
        started_at=now,
        finished_at=now,
        ok=True,
        counts={"new": missed, "missed_by_notifications": missed},
    )


def test_the_dashboard_shows_orders_missed_by_notifications_per_store_per_day(admin_client, store, settings):
    settings.SQS_QUEUE_URL = "http://sqs.example/1/q"
    NotificationSubscription.objects.create(store=store, state=NotificationSubscription.State.ACTIVE)
    _run(store, days_ago=0, missed=2)
    _run(store, days_ago=0, missed=1)
    _run(store, days_ago=1, missed=4)

    first, again = admin_client.get("/admin/"), admin_client.get("/admin/")

    for page in (first, again):
        html = page.content.decode()
        assert "Order notifications" in html and "Active" in html
        row = html[html.index(f'id="ops-notifications-{store.pk}"') :].split("</tr>")[0]
        cells = [c.split("</a>")[0].rsplit(">", 1)[1] for c in row.split('class="ops-missed"')[1:]]
        assert cells[-2:] == ["4", "3"] and cells[:-2] == ["0"] * 5


def test_without_notifications_the_dashboard_has_no_such_table(admin_client, store, settings):
    settings.SQS_QUEUE_URL = ""
    assert "Order notifications" not in admin_client.get("/admin/").content.decode()

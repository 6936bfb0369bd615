"""Setting up ORDER_CHANGE notifications for every store, and the schedules that follow.

connections/notifications.py talks to Amazon for one store; this runs it for
every store and brings a store's schedules in step when its subscription
changed (a healthy subscription makes the download hourly). Idempotent: a
second run calls Amazon for nothing and changes nothing.
"""

from __future__ import annotations

from collections import Counter

from connections.models import Store
from connections.notifications import notification_subscription_sync
from fulfillment.jobs.schedules import schedules_sync


def notification_subscription_setup(*, store: Store) -> str:
    """One store (the store admin's button, connect_store): returns what happened, in words."""
    result = notification_subscription_sync(store=store)
    if result.changed:
        schedules_sync(store=store)
    return result.message


def notification_subscriptions_sync() -> dict:
    counts: Counter[str] = Counter()
    for store in Store.objects.select_related("marketplace").order_by("pk"):
        result = notification_subscription_sync(store=store)
        counts["changed" if result.changed else "unchanged"] += 1
        if result.changed:
            schedules_sync(store=store)
    return dict(counts)

"""Jobs: the run rows operators read, and the leases that keep one run per job at a time."""

from __future__ import annotations

from django.db import models


class SyncRun(models.Model):
    """One run of one background job: what operators read to see that jobs run and how.

    Per-store jobs name their store; jobs for the whole warehouse system (the
    webhook sweep, alerts, purges, the schedule repair) leave it empty.
    Written by the job runner only (fulfillment/jobs/runner.py).
    """

    class Kind(models.TextChoices):
        # Per store
        ORDER_PULL = "order_pull", "Order download"
        RECONCILE = "reconcile", "Order reconciliation"
        SHIPMENT_CONFIRM = "shipment_confirm", "Shipment confirmation"
        INVENTORY_PUSH = "inventory_push", "Inventory push"
        HOLD_RECHECK = "hold_recheck", "Held orders re-check"
        # For every store at once
        WEBHOOK_SWEEP = "webhook_sweep", "Webhook delivery sweep"
        ALERTS = "alerts", "Operations alerts"
        PERSONAL_DATA_PURGE = "personal_data_purge", "Personal data purge"
        ORDER_DATA_PURGE = "order_data_purge", "Order data purge"
        AUTHORIZATION_PURGE = "authorization_purge", "Authorization records purge"
        SCHEDULES_REPAIR = "schedules_repair", "Schedule repair"

    store = models.ForeignKey(
        "connections.Store",
        on_delete=models.CASCADE,
        related_name="sync_runs",
        null=True,
        blank=True,
        help_text="Empty for jobs that run for every store at once.",
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(null=True, help_text="Empty while running.")
    # e.g. {"new": 3, "updated": 1, "cancelled": 0, "held": 1, "released": 2, "pages": 1}
    counts = models.JSONField(default=dict, blank=True)
    api_calls = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # What an operator should read beyond the counts (e.g. reconciliation findings).
    notes = models.TextField(blank=True)

    class Meta:
        db_table = "fulfillment_syncrun"  # moved from the orders app with its table
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["store", "kind", "-started_at"], name="sync_run_store_kind_idx")]

    def __str__(self) -> str:
        scope = f"store {self.store_id}" if self.store_id else "all stores"
        return f"{self.get_kind_display()} ({scope}) {self.started_at:%Y-%m-%d %H:%M}"

    def count(self, key: str) -> int:
        return int(self.counts.get(key, 0))


class JobLock(models.Model):
    """A lease: one running job per (store, kind) across processes and machines.

    Taken by a compare-and-set UPDATE on an expired lease (fulfillment/jobs/locks.py),
    not by a transaction-long row lock, because the order download commits
    each page on its own. A crashed worker's lease simply expires.
    """

    store = models.ForeignKey("connections.Store", on_delete=models.CASCADE, related_name="job_locks")
    kind = models.CharField(max_length=24)
    owner = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField()

    class Meta:
        db_table = "fulfillment_joblock"  # moved from the orders app with its table
        constraints = [
            models.UniqueConstraint(fields=["store", "kind"], name="job_lock_unique_per_store_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} lock of store {self.store_id}"

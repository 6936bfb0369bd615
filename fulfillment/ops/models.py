"""Operations tables: which alerts went out."""

from __future__ import annotations

from django.db import models


class AlertSent(models.Model):
    """One alert that went out. The unique (kind, key) row is claimed before the
    email is sent, so a check that runs every few minutes alerts once, even when
    two workers run it at the same time."""

    class Kind(models.TextChoices):
        REAUTHORIZATION = "reauthorization", "Store needs re-authorization"
        JOB_FAILING = "job_failing", "Job failing repeatedly"
        CONFIRMATION_REJECTED = "confirmation_rejected", "Shipment confirmation rejected"
        SHIP_BY_NEAR = "ship_by_near", "Orders near ship-by, nothing shipped"
        UNREADABLE_ORDER = "unreadable_order", "Amazon order the download could not read"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    key = models.CharField(max_length=200, help_text="What the alert is about, e.g. store:3:run:120.")
    store = models.ForeignKey(
        "connections.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    recipients = models.CharField(max_length=500, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = "alert sent"
        verbose_name_plural = "alerts sent"
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="alert_sent_unique_kind_key")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.key}"

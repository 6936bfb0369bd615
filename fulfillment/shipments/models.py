"""Shipments: the packages the warehouse shipped, and the queue confirming each to Amazon once."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q

from fulfillment.core.outbound import OutboundItem, RetryPolicy


class Shipment(models.Model):
    """One package the warehouse shipped. Idempotent on (order, package_id)."""

    class Source(models.TextChoices):
        API = "api", "WMS API"
        ADMIN = "admin", "Admin"
        CSV = "csv", "CSV import"

    order = models.ForeignKey("fulfillment.Order", on_delete=models.PROTECT, related_name="shipments")
    package_id = models.CharField("package id", max_length=100, help_text="The WMS's own package id.")
    # Amazon's confirmShipment wants a numeric packageReferenceId: 1, 2, ... per order.
    package_reference = models.PositiveIntegerField(editable=False)
    carrier = models.CharField(max_length=100)
    service = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100)
    ship_date = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Moved from the wms app with its table: the name stays.
        db_table = "wms_shipment"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["order", "package_id"], name="shipment_unique_package_id"),
            models.UniqueConstraint(
                fields=["order", "package_reference"], name="shipment_unique_package_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.package_id} ({self.tracking_number})"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("fulfillment.OrderLine", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(help_text="Amazon units.")

    class Meta:
        db_table = "wms_shipmentline"
        ordering = ["shipment", "order_line"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line"], name="shipment_line_unique_item"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line_id} x{self.quantity}"


class ShipmentConfirmation(OutboundItem):
    """One package to confirm to Amazon with Orders v0 confirmShipment.

    Created in the shipment's own transaction (fulfillment.wms.services.
    shipment_record), so a recorded package always has its row. The
    one-to-one on the shipment and the unique (order, package_reference)
    make queuing a package twice impossible at the database level.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        ACCEPTED = "accepted", "Accepted by Amazon"
        REJECTED = "rejected", "Rejected"
        RETRYING = "retrying", "Retrying"
        RESOLVED = "resolved", "Resolved by hand"
        # The tracking number is not one of its carrier's (shipments/tracking_formats.py):
        # not sent until corrected or a person sends it anyway.
        HELD = "held", "Held: tracking number"

    # States a worker may claim (with `not_before` passed).
    DUE_STATES = (State.PENDING, State.RETRYING)
    waiting_states = DUE_STATES
    retry_policy = RetryPolicy(
        base=dt.timedelta(minutes=1),
        cap=dt.timedelta(hours=1),
        max_attempts_setting="CONFIRMATION_MAX_ATTEMPTS",
    )

    shipment = models.OneToOneField(Shipment, on_delete=models.CASCADE, related_name="confirmation")
    order = models.ForeignKey("fulfillment.Order", on_delete=models.PROTECT, related_name="confirmations")
    # Denormalised from the order: the admin filters and the sweep polls by store.
    store = models.ForeignKey("connections.Store", on_delete=models.CASCADE, related_name="+")
    # Copied from the shipment: Amazon's packageReferenceId, numeric and unique per order.
    package_reference = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # attempts, not_before, last_error, last_attempt_at (the last request to
    # Amazon), attempt_history: fulfillment.core.outbound.OutboundItem.
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took it; a stale claim means the worker crashed."
    )
    # True from the moment a request may have reached Amazon until Amazon's
    # answer is recorded: the next attempt first asks Amazon whether the
    # package is already there instead of sending it blind.
    outcome_unknown = models.BooleanField(default=False)
    amazon_message = models.TextField(blank=True, help_text="What Amazon (or our pre-send check) answered.")
    accepted_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True, help_text="Operations were emailed.")
    resolved_by = models.CharField(max_length=150, blank=True)
    sent_anyway_by = models.CharField(
        max_length=150, blank=True, help_text="Who sent a held tracking number anyway."
    )
    sent_anyway_at = models.DateTimeField(null=True, blank=True)
    # The last confirmShipment request body and Amazon's answer to it, for the
    # admin: the body is Amazon ids, carrier, tracking number, dates and item ids,
    # never buyer data (confirmation_body.py); the answer is its status code and
    # Amazon's error list.
    sent_body = models.JSONField("sent to Amazon", default=dict, blank=True, editable=False)
    amazon_response = models.JSONField("Amazon's answer", default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["order", "shipment"], name="confirmation_unique_order_shipment"),
            models.UniqueConstraint(
                fields=["order", "package_reference"], name="confirmation_unique_package_reference"
            ),
        ]
        indexes = [
            # confirmations_due(): the sweep's poll of due rows per store.
            models.Index(
                fields=["store", "not_before"],
                name="confirmation_due_idx",
                condition=Q(state__in=["pending", "retrying"]),
            ),
            # confirmations_due(): claims of crashed workers, found by their age.
            models.Index(
                fields=["store", "claimed_at"],
                name="confirmation_sending_idx",
                condition=Q(state="sending"),
            ),
            # The admin's state filter.
            models.Index(fields=["state", "store"], name="confirmation_state_store_idx"),
            # The dashboard's packages-confirmed-per-day chart (the last 14 days).
            models.Index(
                fields=["accepted_at"],
                name="confirmation_accepted_idx",
                condition=Q(accepted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"package {self.package_reference} of order {self.order_id}"

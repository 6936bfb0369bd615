"""Refusals of the domain services to the warehouse (the WMS API answers them 400/404/409)."""

from __future__ import annotations


class WmsError(Exception):
    """A refusal with field errors; nothing was written."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class ShipmentRejected(WmsError):
    """`errors` keys: order, package_id, carrier, tracking_number, ship_date, lines,
    and lines.<i> for the i-th input line (0-based)."""


class OrderConflict(Exception):
    """The order exists but is in no state for this call (answered 409)."""


class ValueFreeError(Exception):
    """An exception whose message names things (fields, ids, states), never values.

    `fulfillment.jobs.errors.safe_error` keeps such a message as it is; any other
    exception's text could carry a buyer's address or a token and is reduced to
    its class and where it was raised.
    """

"""Operations' email about one package, sent once.

A rejected confirmation and a package held for its tracking number share one
once-only flag (`alerted_at`): a compare-and-set, so two workers never email
the same package twice, and a restart of the confirmation clears it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone

from fulfillment.shipments.models import ShipmentConfirmation

logger = logging.getLogger(__name__)


def confirmation_email_once(*, confirmation: ShipmentConfirmation, subject: str, template: str) -> bool:
    """Email the warehouse's operations address about this package, unless done already.
    True if sent now (or tried: a mail outage must not stop the queue; the admin shows it)."""
    email = confirmation.store.warehouse.operations_email
    if not email:
        return False
    now = timezone.now()
    if not ShipmentConfirmation.objects.filter(pk=confirmation.pk, alerted_at__isnull=True).update(
        alerted_at=now
    ):
        return False
    confirmation.alerted_at = now
    context = {
        "confirmation": confirmation,
        "order": confirmation.order,
        "shipment": confirmation.shipment,
        "store": confirmation.store,
        "base_url": settings.PUBLIC_BASE_URL,
    }
    order, package = confirmation.order.amazon_order_id, confirmation.package_reference
    body = render_to_string(template, context)
    try:
        send_mail(f"{subject}: order {order}, package {package}", body, None, [email])
    except Exception:
        logger.exception("could not email operations about confirmation %s", confirmation.pk)
    return True

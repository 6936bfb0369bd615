"""A confirmed admin CSV import payload is good for one import.

The preview page carries the checked file signed, with a random nonce; the
confirm claims the nonce in the import's own transaction, so a replayed (or
double-clicked) confirm changes nothing. Nonces older than the payload's
lifetime are deleted: their signature has expired anyway.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from fulfillment.wms.models import CsvImportConfirmation


def csv_import_confirmation_claim(*, nonce: str, max_age_seconds: int = 3600) -> bool:
    """Claim a payload's nonce; False when it was already used (or there is none)."""
    if not nonce:
        return False
    now = timezone.now()
    CsvImportConfirmation.objects.filter(used_at__lt=now - dt.timedelta(seconds=2 * max_age_seconds)).delete()
    try:
        with transaction.atomic():
            CsvImportConfirmation.objects.create(nonce=nonce, used_at=now)
    except IntegrityError:
        return False
    return True

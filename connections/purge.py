"""The purge of spent authorization records: OAuth states, merchant links, sessions.

Run hourly by the job runner (fulfillment/jobs/tasks.py). Idempotent: a second
run finds nothing left to delete.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.utils import timezone

from .models import MerchantLink, OAuthState

logger = logging.getLogger(__name__)


def authorization_records_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Delete expired OAuth states and merchant links, and expired sessions
    (what `manage.py clearsessions` does); returns how many states and links went."""
    now = now or timezone.now()
    states, _ = OAuthState.objects.filter(expires_at__lt=now).delete()
    # A link's own states go with it (cascade); count the links alone.
    _, by_model = MerchantLink.objects.filter(expires_at__lt=now).delete()
    links = by_model.get(MerchantLink._meta.label, 0)
    states += by_model.get(OAuthState._meta.label, 0)
    engine = import_module(settings.SESSION_ENGINE)
    # Cookie sessions expire in the browser: nothing is stored to clear.
    with contextlib.suppress(NotImplementedError):
        engine.SessionStore.clear_expired()
    if states or links:
        logger.info("Purged %s expired OAuth state(s) and %s expired merchant link(s)", states, links)
    return {"oauth_states": states, "merchant_links": links}

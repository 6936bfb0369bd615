"""Row makers for the operations admins (tests/test_admin_pages.py finds them)."""

from __future__ import annotations

import itertools

from django.utils import timezone

from connections.models import Merchant, MerchantMembership
from fulfillment.ops.models import AlertSent
from tests.factories import make_store, make_user, register_row_maker

_seq = itertools.count(1)


def make_merchant(**kw) -> Merchant:
    n = next(_seq)
    return Merchant.objects.create(**{"name": f"Merchant {n}", "email": f"m{n}@example.com", **kw})


def make_alert(**kw) -> AlertSent:
    n = next(_seq)
    defaults = dict(
        kind=AlertSent.Kind.JOB_FAILING,
        key=f"test:{n}",
        store=kw.pop("store", None) or make_store(),
        recipients="ops@example.com",
        subject="A job keeps failing",
        sent_at=timezone.now(),
    )
    return AlertSent.objects.create(**{**defaults, **kw})


register_row_maker(Merchant, lambda n: [make_merchant() for _ in range(n)])
register_row_maker(
    MerchantMembership,
    lambda n: [
        MerchantMembership.objects.create(user=make_user(), merchant=make_merchant()) for _ in range(n)
    ],
)
register_row_maker(AlertSent, lambda n: [make_alert() for _ in range(n)])

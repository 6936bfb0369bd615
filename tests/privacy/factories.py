"""Row makers for the access audit admin (auto-discovered by tests/factories.py)."""

from __future__ import annotations

from django.utils import timezone

from fulfillment.privacy.models import BuyerDataAccess
from tests.factories import register_row_maker


def make_buyer_data_access(**kw) -> BuyerDataAccess:
    from tests.wms.factories import make_released_order

    order = kw.pop("order", None) or make_released_order()
    defaults = dict(
        accessed_at=timezone.now(),
        actor="ops",
        order=order,
        store_id=order.store_id,
        amazon_order_id=order.amazon_order_id,
        fields=["ship_to"],
        via=BuyerDataAccess.Via.ADMIN_ORDER_PAGE,
        address="192.0.2.1",
    )
    return BuyerDataAccess.objects.create(**{**defaults, **kw})


register_row_maker(BuyerDataAccess, lambda n: [make_buyer_data_access() for _ in range(n)])

"""Row makers for tests, one per admin-registered model.

`tests/test_admin_pages.py` loads every admin changelist and change page with
rows from here and fails for a registered model that has no maker, so a new
admin cannot ship without its query-count check.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import models

from connections.models import AcceptedCarrier, Marketplace, Store
from fulfillment.orders.models import Warehouse

_seq = itertools.count(1)


def make_warehouse(**kw) -> Warehouse:
    n = next(_seq)
    defaults = dict(code=f"WH{n}", name=f"Warehouse {n}", time_zone="America/Chicago", country_code="US")
    return Warehouse.objects.create(**{**defaults, **kw})


def make_store(**kw) -> Store:
    n = next(_seq)
    defaults = dict(
        name=f"Store {n}",
        marketplace=kw.pop("marketplace", None) or Marketplace.objects.get(code="US"),
        warehouse=kw.pop("warehouse", None) or make_warehouse(),
        selling_partner_id=f"A{n:012d}",
        authorization_status=Store.Authorization.CONNECTED,
        refresh_token=f"Atzr|refresh-{n}",
    )
    return Store.objects.create(**{**defaults, **kw})


def make_user(**kw):
    n = next(_seq)
    return get_user_model().objects.create_user(username=f"user{n}", password="pw", **kw)


# model -> callable(count) that makes `count` more rows of that model.
ROW_MAKERS: dict[type[models.Model], Callable[[int], None]] = {
    Warehouse: lambda n: [make_warehouse() for _ in range(n)],
    Store: lambda n: [make_store() for _ in range(n)],
    # Reference data: the migration already loaded rows; add a few more.
    Marketplace: lambda n: None,
    AcceptedCarrier: lambda n: [
        AcceptedCarrier.objects.create(
            marketplace=Marketplace.objects.get(code="US"), code=f"Carrier {next(_seq)}"
        )
        for _ in range(n)
    ],
}


def register_row_maker(model: type[models.Model], maker: Callable[[int], None]) -> None:
    ROW_MAKERS[model] = maker


def _discover_package_makers() -> None:
    """Import tests/<package>/factories.py so each package registers its makers."""
    import importlib
    import pkgutil
    from pathlib import Path

    root = Path(__file__).parent
    for info in pkgutil.iter_modules([str(root)]):
        if info.ispkg and (root / info.name / "factories.py").exists():
            importlib.import_module(f"tests.{info.name}.factories")


_discover_package_makers()

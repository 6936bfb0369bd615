"""manage.py sandbox_orders --seller S --count N [--seed X] [--days D]: new orders in the sandbox."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from connections.selectors import UnknownMarketplace, marketplace_find
from sandbox.orders import sandbox_now, sandbox_orders_create, sandbox_orders_place
from sandbox.sellers import sandbox_seller_ensure


class Command(BaseCommand):
    help = (
        "Create N realistic orders for a sandbox seller (created if new): placed now, so the next "
        "'Pull orders now' shows them; with --days, spread over the last D days, some of them "
        "cancelled or partially shipped since."
    )

    def add_arguments(self, parser):
        parser.add_argument("--seller", required=True, help="Selling partner id, e.g. A1ACMESELLER.")
        parser.add_argument("--count", required=True, type=int)
        parser.add_argument("--seed", type=int, default=None, help="Same seed, same orders.")
        parser.add_argument(
            "--marketplace", default="US", help="Marketplace: US, DE, UK or GB, … or its id (default US)."
        )
        parser.add_argument(
            "--days", type=float, default=0, help="Spread the orders over the last D days (default: now)."
        )

    def handle(
        self, *args, seller: str, count: int, seed: int | None, marketplace: str, days: float, **options
    ):
        if count < 1:
            raise CommandError("--count must be at least 1.")
        if days < 0:
            raise CommandError("--days cannot be negative.")
        try:
            marketplace = marketplace_find(name=marketplace).code
        except UnknownMarketplace as exc:
            raise CommandError(str(exc)) from exc
        sandbox_seller = sandbox_seller_ensure(selling_partner_id=seller, marketplace_codes=(marketplace,))
        started = time.monotonic()
        if days:
            now = sandbox_now()
            orders = sandbox_orders_create(
                seller=sandbox_seller,
                count=count,
                seed=seed,
                marketplace_code=marketplace,
                created_after=now - dt.timedelta(days=days),
                created_before=now,
            )
        else:
            orders = sandbox_orders_place(
                seller=sandbox_seller, count=count, seed=seed, marketplace_code=marketplace
            )
        elapsed = time.monotonic() - started
        statuses = Counter(o.status for o in orders)
        prime = sum(1 for o in orders if "PRIME" in o.programs)
        business = sum(1 for o in orders if "AMAZON_BUSINESS" in o.programs)
        self.stdout.write(
            f"{seller}: {len(orders)} orders created in {elapsed:.1f}s "
            f"({', '.join(f'{k.lower()} {v}' for k, v in sorted(statuses.items()))}; "
            f"prime {prime}, business {business})"
        )

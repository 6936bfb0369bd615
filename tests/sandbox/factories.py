"""Row makers for the sandbox admin pages (see tests/test_admin_pages.py)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from connections.models import Marketplace
from sandbox.models import (
    SandboxAccessToken,
    SandboxApplication,
    SandboxAuthorizationCode,
    SandboxFaults,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxListing,
    SandboxOrder,
    SandboxPackage,
    SandboxRateBucket,
    SandboxRefreshToken,
    SandboxSeller,
)
from sandbox.orders import sandbox_orders_create
from sandbox.sellers import (
    authorization_code_issue,
    refresh_token_issue,
    sandbox_application_ensure,
    sandbox_seller_ensure,
)
from tests.factories import register_row_maker

_seq = itertools.count(1)


def make_sandbox_seller() -> SandboxSeller:
    n = next(_seq)
    return sandbox_seller_ensure(selling_partner_id=f"ASBX{n:08d}", name=f"Sandbox {n}")


def make_sandbox_application() -> SandboxApplication:
    n = next(_seq)
    return SandboxApplication.objects.create(
        name=f"App {n}",
        client_id=f"amzn1.application-oa2-client.{n}",
        client_secret=f"secret-{n}",
        application_id=f"amzn1.sp.solution.{n}",
        redirect_uri="http://testserver/connections/oauth/callback/",
    )


def make_sandbox_orders(count: int) -> list[SandboxOrder]:
    return sandbox_orders_create(seller=make_sandbox_seller(), count=count, seed=next(_seq))


def make_sandbox_feed() -> SandboxFeed:
    n = next(_seq)
    seller = make_sandbox_seller()
    document = SandboxFeedDocument.objects.create(
        document_id=f"amzn1.tortuga.4.na.doc{n}", seller=seller, content_type="application/json"
    )
    return SandboxFeed.objects.create(
        feed_id=f"{5000000 + n}",
        seller=seller,
        feed_type="JSON_LISTINGS_FEED",
        marketplace_ids=["ATVPDKIKX0DER"],
        input_document=document,
        created_time=timezone.now(),
    )


def make_sandbox_package() -> SandboxPackage:
    order = make_sandbox_orders(1)[0]
    item = order.items.first()
    return SandboxPackage.objects.create(
        order=order,
        package_reference_id=f"{next(_seq)}",
        carrier_code="UPS",
        tracking_number="1Z999",
        ship_date=timezone.now(),
        items=[{"orderItemId": item.order_item_id, "quantity": 1}],
    )


register_row_maker(SandboxApplication, lambda n: [make_sandbox_application() for _ in range(n)])
register_row_maker(SandboxSeller, lambda n: [make_sandbox_seller() for _ in range(n)])
register_row_maker(
    SandboxRefreshToken,
    lambda n: [
        refresh_token_issue(application=sandbox_application_ensure(), seller=make_sandbox_seller())
        for _ in range(n)
    ],
)
register_row_maker(
    SandboxAuthorizationCode,
    lambda n: [
        authorization_code_issue(
            application=sandbox_application_ensure(),
            seller=make_sandbox_seller(),
            redirect_uri="http://testserver/cb",
        )
        for _ in range(n)
    ],
)
register_row_maker(
    SandboxAccessToken,
    lambda n: [
        SandboxAccessToken.objects.create(
            application=sandbox_application_ensure(),
            seller=make_sandbox_seller(),
            token=f"Atza|token-{next(_seq)}",
            expires_at=timezone.now() + dt.timedelta(hours=1),
        )
        for _ in range(n)
    ],
)
register_row_maker(
    SandboxListing,
    lambda n: [
        SandboxListing.objects.create(
            seller=make_sandbox_seller(),
            marketplace=Marketplace.objects.get(code="US"),
            sku=f"SKU-{next(_seq)}",
        )
        for _ in range(n)
    ],
)
register_row_maker(SandboxOrder, make_sandbox_orders)
register_row_maker(SandboxPackage, lambda n: [make_sandbox_package() for _ in range(n)])
register_row_maker(
    SandboxFeedDocument,
    lambda n: [
        SandboxFeedDocument.objects.create(
            document_id=f"amzn1.tortuga.4.na.x{next(_seq)}",
            seller=make_sandbox_seller(),
            content_type="text/plain",
        )
        for _ in range(n)
    ],
)
register_row_maker(SandboxFeed, lambda n: [make_sandbox_feed() for _ in range(n)])
register_row_maker(
    SandboxRateBucket,
    lambda n: [
        SandboxRateBucket.objects.create(
            caller=f"A{next(_seq)}", operation="getOrder", tokens=3.0, updated_at=timezone.now()
        )
        for _ in range(n)
    ],
)
register_row_maker(SandboxFaults, lambda n: SandboxFaults.current())

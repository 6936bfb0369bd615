"""Row makers of the connections package for the admin page tests."""

from connections.merchant_links import store_send_authorization_link
from connections.models import MerchantLink
from tests.factories import make_store, register_row_maker


def make_merchant_links(n: int) -> None:
    for _ in range(n):
        store_send_authorization_link(store=make_store(), email="merchant@example.test", reauthorization=True)


register_row_maker(MerchantLink, make_merchant_links)

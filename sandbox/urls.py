"""URLs of the SP-API emulator, mounted under /sandbox/ when SANDBOX_ENABLED.

Paths are Amazon's, so `SP_API_ENDPOINT=<host>/sandbox` and
`LWA_TOKEN_URL=<host>/sandbox/auth/o2/token` are all a client needs.
"""

from django.urls import path

from .views import lwa, orders, sellers

app_name = "sandbox"
urlpatterns = [
    path("auth/o2/token", lwa.token, name="lwa-token"),
    path("apps/authorize/consent", lwa.consent, name="consent"),
    path(
        "sellers/v1/marketplaceParticipations",
        sellers.marketplace_participations,
        name="marketplace-participations",
    ),
    path("orders/2026-01-01/orders", orders.search_orders, name="search-orders"),
    path("orders/2026-01-01/orders/<str:order_id>", orders.get_order, name="get-order"),
    path(
        "orders/v0/orders/<str:order_id>/shipmentConfirmation",
        orders.confirm_shipment,
        name="confirm-shipment",
    ),
]

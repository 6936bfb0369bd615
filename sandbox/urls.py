"""URLs of the SP-API emulator, mounted under /sandbox/ when SANDBOX_ENABLED.

Paths are Amazon's, so `SP_API_ENDPOINT=<host>/sandbox` and
`LWA_TOKEN_URL=<host>/sandbox/auth/o2/token` are all a client needs.
"""

from django.urls import path

from .views import feeds, home, listings, lwa, notifications, orders, sellers

app_name = "sandbox"
urlpatterns = [
    path("", home.home, name="home"),
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
    path("feeds/2021-06-30/documents", feeds.create_feed_document, name="create-feed-document"),
    path("feeds/2021-06-30/documents/<str:document_id>", feeds.get_feed_document, name="get-feed-document"),
    path("feeds/2021-06-30/feeds", feeds.create_feed, name="create-feed"),
    path("feeds/2021-06-30/feeds/<str:feed_id>", feeds.get_feed, name="get-feed"),
    # Presigned document URLs (S3 on Amazon): no SP-API token, no usage plan.
    path("feeds/upload/<str:document_id>", feeds.upload, name="feed-upload"),
    path("feeds/download/<str:document_id>", feeds.download, name="feed-download"),
    path("notifications/v1/destinations", notifications.destinations, name="notification-destinations"),
    path(
        "notifications/v1/subscriptions/<str:notification_type>/testNotification",
        notifications.test_notification,
        name="notification-test",
    ),
    path(
        "notifications/v1/subscriptions/<str:notification_type>/<str:subscription_id>",
        notifications.subscription_by_id,
        name="notification-subscription-by-id",
    ),
    path(
        "notifications/v1/subscriptions/<str:notification_type>",
        notifications.subscriptions,
        name="notification-subscriptions",
    ),
    path("listings/2021-08-01/items/<str:seller_id>", listings.listings_items, name="listings-items"),
    path("listings/2021-08-01/items/<str:seller_id>/<str:sku>", listings.listings_item, name="listings-item"),
]

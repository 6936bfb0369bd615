from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from fulfillment.wms.api import views

urlpatterns = [
    path("orders", views.OrderListView.as_view(), name="wms-orders"),
    path("orders/<int:pk>", views.OrderDetailView.as_view(), name="wms-order"),
    path("orders/<int:pk>/acknowledge", views.OrderAcknowledgeView.as_view(), name="wms-order-acknowledge"),
    path("cancellations", views.CancellationListView.as_view(), name="wms-cancellations"),
    path(
        "cancellations/<int:pk>/acknowledge",
        views.CancellationAcknowledgeView.as_view(),
        name="wms-cancellation-acknowledge",
    ),
    path("shipments", views.ShipmentCreateView.as_view(), name="wms-shipments"),
    path("inventory", views.InventoryView.as_view(), name="wms-inventory"),
    path("schema/", SpectacularAPIView.as_view(), name="wms-schema"),
    # The split view serves its start-up script from a URL: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="wms-schema"), name="wms-docs"),
    # No Redoc page: drf-spectacular's loads fonts and a logo from CDNs (refused by the CSP).
]

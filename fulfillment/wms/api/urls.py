from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views

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
    path("docs/", SpectacularSwaggerView.as_view(url_name="wms-schema"), name="wms-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="wms-schema"), name="wms-redoc"),
]

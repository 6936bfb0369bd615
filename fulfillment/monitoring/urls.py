from django.urls import path

from fulfillment.monitoring import views

# Served by MonitoringEndpointsMiddleware before the host check and HTTPS
# redirect; listed here too so they resolve and reverse like any page.
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("healthz/web", views.healthz_web, name="healthz-web"),
    path("metrics", views.metrics, name="metrics"),
]

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("connections/", include("connections.urls")),
    path("api/v1/", include("fulfillment.wms.api.urls")),
    path("", include("fulfillment.monitoring.urls")),
]

if settings.SANDBOX_ENABLED:
    # The emulator of Amazon's SP-API and LWA; never mounted in production.
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

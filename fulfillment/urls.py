from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from fulfillment.core.csv_examples import csv_example

urlpatterns = [
    # Nothing lives at the root: people arrive at the admin.
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Before admin/: the import pages link here ("Download example").
    path("admin/csv-examples/<slug:model_name>.csv", csv_example, name="csv-example"),
    path("admin/", admin.site.urls),
    path("connections/", include("connections.urls")),
    path("api/v1/", include("fulfillment.wms.api.urls")),
    path("", include("fulfillment.monitoring.urls")),
]

if settings.SANDBOX_ENABLED:
    # The emulator of Amazon's SP-API and LWA; never mounted in production.
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

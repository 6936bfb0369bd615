from django.contrib import admin
from django.utils import timezone


class FulfillmentAdminSite(admin.AdminSite):
    site_header = "Fulfillment Bridge"
    site_title = "Fulfillment Bridge"
    index_title = "Amazon stores and warehouse operations"

    def index(self, request, extra_context=None):
        # The home page is the operations dashboard (templates/admin/index.html).
        from fulfillment.ops.selectors import dashboard_for

        dashboard = dashboard_for(user=request.user, now=timezone.now())
        return super().index(request, {**(extra_context or {}), "dashboard": dashboard})

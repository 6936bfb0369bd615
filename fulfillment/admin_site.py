from django.contrib import admin


class FulfillmentAdminSite(admin.AdminSite):
    site_header = "Fulfillment Bridge"
    site_title = "Fulfillment Bridge"
    index_title = "Amazon stores and warehouse operations"

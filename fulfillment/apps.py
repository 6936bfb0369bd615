from django.contrib.admin.apps import AdminConfig


class FulfillmentAdminConfig(AdminConfig):
    """The product's branded admin site replaces Django's default one."""

    default_site = "fulfillment.admin_site.FulfillmentAdminSite"

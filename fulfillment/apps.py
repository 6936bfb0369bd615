from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class FulfillmentAdminConfig(AdminConfig):
    """The product's branded admin site replaces Django's default one."""

    default_site = "fulfillment.admin_site.FulfillmentAdminSite"


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfillment"

    def ready(self) -> None:
        from fulfillment import signals  # noqa: F401 - connects the store schedule receivers

from django.apps import AppConfig


class WmsConfig(AppConfig):
    name = "fulfillment.wms"
    label = "wms"
    verbose_name = "Warehouse (WMS)"

    def ready(self) -> None:
        from fulfillment.wms import signals  # noqa: F401 - keeps the webhook sweep scheduled

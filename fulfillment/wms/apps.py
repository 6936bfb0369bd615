from django.apps import AppConfig


class WmsConfig(AppConfig):
    name = "fulfillment.wms"
    label = "wms"
    verbose_name = "Warehouse (WMS)"

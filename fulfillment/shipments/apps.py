from django.apps import AppConfig


class ShipmentsConfig(AppConfig):
    name = "fulfillment.shipments"
    # The label the confirmations app had: tables, permissions and migration
    # history stay; the shipments themselves moved in from wms, keeping theirs.
    label = "confirmations"
    verbose_name = "Shipments"

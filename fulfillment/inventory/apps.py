from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "fulfillment.inventory"
    label = "inventory"
    verbose_name = "Inventory push"

from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "fulfillment.inventory"
    label = "inventory"
    verbose_name = "Inventory push"

    def ready(self) -> None:
        from fulfillment.inventory import schedules  # noqa: F401 - keeps push schedules in step with stores

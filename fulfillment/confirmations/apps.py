from django.apps import AppConfig


class ConfirmationsConfig(AppConfig):
    name = "fulfillment.confirmations"
    label = "confirmations"
    verbose_name = "Shipment confirmations"

    def ready(self) -> None:
        from fulfillment.confirmations import signals  # noqa: F401 - keeps the sweep schedules in step

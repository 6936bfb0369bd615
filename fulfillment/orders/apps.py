from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "fulfillment.orders"
    # The label the orders had when they lived at the root of `fulfillment`:
    # it names their tables (fulfillment_order, ...), permissions, content
    # types and migration history, so keeping it moves the code and no data.
    label = "fulfillment"
    verbose_name = "Orders"

    def ready(self) -> None:
        from mappings.signals import release_mappings_changed

        from .tasks import held_orders_recheck_queue

        # A mapping that can release held orders changed: re-check them in a task.
        release_mappings_changed.connect(held_orders_recheck_queue, dispatch_uid="held_orders_recheck")

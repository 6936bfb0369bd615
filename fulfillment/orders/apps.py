from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "fulfillment.orders"
    # The label the orders had when they lived at the root of `fulfillment`:
    # it names their tables (fulfillment_order, ...), permissions, content
    # types and migration history, so keeping it moves the code and no data.
    label = "fulfillment"
    verbose_name = "Orders"

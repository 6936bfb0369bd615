from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every package shares: encrypted fields, refusals, CSV examples, key rotation."""

    name = "fulfillment.core"
    label = "core"
    verbose_name = "Core"

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "fulfillment.accounts"
    label = "accounts"
    verbose_name = "Accounts and access"

    def ready(self):
        from fulfillment.accounts import checks, signals  # noqa: F401  (registers the system check and receivers)

from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "fulfillment.privacy"
    label = "privacy"
    verbose_name = "Personal data"

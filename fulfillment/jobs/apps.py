from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Background jobs: one runner, their run rows and leases, and the schedule registry."""

    name = "fulfillment.jobs"
    label = "jobs"
    verbose_name = "Jobs"

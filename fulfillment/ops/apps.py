from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the admin dashboard, order timelines, alerts and roles."""

    name = "fulfillment.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from fulfillment.ops import roles

        # New models get their permissions on migrate; keep the role groups in step with them.
        post_migrate.connect(roles.roles_sync_after_migrate, dispatch_uid="ops-roles-sync")

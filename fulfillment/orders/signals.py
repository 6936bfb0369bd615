"""Saving or deleting a store keeps its schedules in step (database rows only, no API call)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from connections.models import Store
from fulfillment.orders.schedules import store_schedules_delete, store_schedules_sync


@receiver(post_save, sender=Store, dispatch_uid="fulfillment.store_schedules_sync")
def _store_saved(sender, instance: Store, raw: bool = False, **kwargs) -> None:
    if raw:  # loaddata: the fixture's own rows
        return
    store_schedules_sync(store=instance)


@receiver(post_delete, sender=Store, dispatch_uid="fulfillment.store_schedules_delete")
def _store_deleted(sender, instance: Store, **kwargs) -> None:
    store_schedules_delete(store_id=instance.pk)

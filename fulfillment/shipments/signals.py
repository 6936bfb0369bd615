"""Saving or deleting a store keeps its confirmation sweep schedule in step."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from connections.models import Store
from fulfillment.shipments.schedules import confirmation_schedule_delete, confirmation_schedule_sync


@receiver(post_save, sender=Store, dispatch_uid="confirmations.schedule_sync")
def _store_saved(sender, instance: Store, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    confirmation_schedule_sync(store=instance)


@receiver(post_delete, sender=Store, dispatch_uid="confirmations.schedule_delete")
def _store_deleted(sender, instance: Store, **kwargs) -> None:
    confirmation_schedule_delete(store_id=instance.pk)

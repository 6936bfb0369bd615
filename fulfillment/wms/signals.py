"""Keep the webhook sweep scheduled once any warehouse has a webhook."""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver
from django_q.models import Schedule

from fulfillment.wms.models import WarehouseWebhook
from fulfillment.wms.tasks import WEBHOOK_SWEEP_SCHEDULE, WEBHOOK_SWEEP_TASK


@receiver(post_save, sender=WarehouseWebhook, dispatch_uid="wms_webhook_schedule")
def webhook_schedule_ensure(sender, instance: WarehouseWebhook, **kwargs) -> None:
    # Found by a stable name: saving a webhook twice keeps one schedule.
    Schedule.objects.update_or_create(
        name=WEBHOOK_SWEEP_SCHEDULE,
        defaults=dict(func=WEBHOOK_SWEEP_TASK, schedule_type=Schedule.MINUTES, minutes=1, repeats=-1),
    )

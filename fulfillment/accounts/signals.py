"""Receivers on the user model."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from fulfillment.accounts.services import password_history_record, user_access_end


@receiver(post_save, sender=get_user_model(), dispatch_uid="accounts_first_password")
def first_password_recorded(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    # createsuperuser and create_user hash the first password without
    # set_password(), so the validators' password_changed() never sees it.
    if created and not raw:
        password_history_record(user=instance, keep=settings.PASSWORD_HISTORY_COUNT)


@receiver(post_save, sender=get_user_model(), dispatch_uid="accounts_access_end_on_deactivation")
def access_ended_when_deactivated(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    # Whoever deactivates (user page, list action, a script): sessions end, key links go.
    if not instance.is_active and not created and not raw:
        user_access_end(user=instance)


@receiver(pre_delete, sender=get_user_model(), dispatch_uid="accounts_access_end_on_delete")
def access_ended_when_deleted(sender, instance, **kwargs) -> None:
    user_access_end(user=instance)

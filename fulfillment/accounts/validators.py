"""AUTH_PASSWORD_VALIDATORS entry: no reuse of the last PASSWORD_HISTORY_COUNT passwords."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError


class PasswordHistoryValidator:
    """Refuses a password that matches the user's current one or one of their last N.

    Django calls `validate` from every form that sets a password (admin user
    add and password change, `changepassword`, `createsuperuser`) and
    `password_changed` after a user with a new password is saved, which is
    where the new hash is recorded.
    """

    def __init__(self, count: int | None = None):
        self._count = count

    @property
    def count(self) -> int:
        return self._count if self._count is not None else settings.PASSWORD_HISTORY_COUNT

    def validate(self, password: str, user=None) -> None:
        from fulfillment.accounts.selectors import password_was_used

        if user is None or user.pk is None:
            return
        if password_was_used(user=user, password=password, last=self.count):
            raise ValidationError(
                "This password was used before: choose one you have not used "
                "for your last %(count)d passwords.",
                code="password_reused",
                params={"count": self.count},
            )

    def password_changed(self, password: str, user=None) -> None:
        from fulfillment.accounts.services import password_history_record

        if user is not None and user.pk is not None:
            password_history_record(user=user, keep=self.count)

    def get_help_text(self) -> str:
        return f"Your password can't be one of your last {self.count} passwords."

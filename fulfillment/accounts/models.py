"""Password history: the hashes of a user's last passwords, never the passwords."""

from django.conf import settings
from django.db import models


class PasswordHistory(models.Model):
    """One password a user had, as the hash Django stored (same hasher, same salt).

    The validator refuses a new password matching any of the last
    PASSWORD_HISTORY_COUNT rows; older rows are deleted when a new one is added.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="password_history_user_idx")]
        verbose_name_plural = "password history"

    def __str__(self) -> str:
        return f"password of user {self.user_id} set {self.created_at:%Y-%m-%d}"

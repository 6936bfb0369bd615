"""Reads about accounts: client address, password history, second-factor state."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import PasswordHistory


def client_address(request: HttpRequest) -> str:
    """The client's IP address, as the lockout and the access audit record it.

    Behind TRUSTED_PROXY_COUNT proxies the client is that many entries from the
    right of X-Forwarded-For (entries further left are whatever the client
    sent, so never trusted); with no proxy it is the peer address.
    """
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR") or ""


def password_was_used(*, user, password: str, last: int) -> bool:
    """Whether `password` is the user's current one or one of their last `last` ones."""
    if user.password and check_password(password, user.password):
        return True
    hashes = PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[:last]
    return any(check_password(password, encoded) for encoded in hashes)


def mfa_device_for(*, user) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if enrolled."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def mfa_enrolled(*, user) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def recovery_codes_left(*, user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()

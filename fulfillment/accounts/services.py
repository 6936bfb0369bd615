"""Account writes: password history, second-factor enrolment and recovery codes.

TOTP and the recovery codes are django-otp's (RFC 6238 and single-use static
tokens): nothing cryptographic is ours.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from fulfillment.accounts.models import PasswordHistory
from fulfillment.accounts.selectors import mfa_device_for

RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def password_history_record(*, user: AbstractBaseUser, keep: int) -> None:
    """Remember the user's new password hash and forget all but the last `keep`."""
    if not user.password or not user.has_usable_password():
        return
    newest = PasswordHistory.objects.filter(user=user).values_list("password", flat=True).first()
    if newest == user.password:
        return  # a user created with a password is recorded twice by Django's hooks: once is enough
    PasswordHistory.objects.create(user=user, password=user.password)
    stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[keep:]
    PasswordHistory.objects.filter(pk__in=list(stale)).delete()


def mfa_enrolment_device(*, user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed authenticator device the enrolment page shows (created once, then reused).

    Reused across reloads so the QR code a person already scanned stays valid
    until they confirm it with a code.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def mfa_device_ensure(*, user: AbstractBaseUser) -> TOTPDevice:
    """An enrolled authenticator for `user`, created once and then kept (the demo admin).

    For set-ups where the key is handed over out of band (demo_setup prints
    it); people enrol through the admin's first-login page instead.
    """
    device = mfa_device_for(user=user)
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)


@transaction.atomic
def mfa_enrolment_confirm(
    *, request: HttpRequest, user: AbstractBaseUser, device: TOTPDevice, token: str
) -> list[str] | None:
    """Confirm the scanned device with a code from the app.

    On success the device becomes the user's only authenticator, the session
    counts as verified, and a fresh set of recovery codes is returned (to show
    once). A wrong code returns None and changes nothing.
    """
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    if not device.verify_token(token.strip()):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    otp_login(request, device)
    return recovery_codes_replace(user=user)


def mfa_verify(*, request: HttpRequest, user: AbstractBaseUser, token: str) -> Device | None:
    """Check a code from the authenticator app or a recovery code; mark the session verified.

    A recovery code works once. Both devices throttle repeated failures
    (django-otp doubles the wait after each), so guessing is slow.
    """
    token = token.strip().replace(" ", "")
    if not token:
        return None
    with transaction.atomic():
        candidates = []
        app = mfa_device_for(user=user)
        if app is not None:
            candidates.append(TOTPDevice.objects.select_for_update().get(pk=app.pk))
        candidates += list(StaticDevice.objects.select_for_update().filter(user=user, confirmed=True))
        for device in candidates:
            if device.verify_token(token):
                otp_login(request, device)
                return device
    return None


@transaction.atomic
def recovery_codes_replace(*, user: AbstractBaseUser) -> list[str]:
    """A new set of single-use recovery codes; the old ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def mfa_reset(*, user: AbstractBaseUser) -> int:
    """Remove a user's authenticator and recovery codes (lost phone): they enrol again at next login.

    Their sessions verified with the removed devices no longer count as verified.
    """
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    removed_static, _ = StaticDevice.objects.filter(user=user).delete()
    return removed + removed_static


# --- Leaving: access ends at once ---------------------------------------------------


def user_access_end(*, user: AbstractBaseUser, now=None) -> dict[str, int]:
    """A deactivated (or deleted) user: end their sessions and unlink the WMS keys they created.

    Sessions: Django would refuse an inactive user's session at its next
    request anyway; deleting them makes "removed" true at once, everywhere.

    WMS keys are the warehouse system's, not the person's: revoking them would
    stop the warehouse's integration the moment someone leaves. The creator
    link is removed and `creator_left_at` set, so the keys show under "creator
    left" in the admin and in `manage.py access_review` until an admin rotates
    them (new key in the WMS, then revoke the old one).
    """
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from fulfillment.wms.models import WmsApiKey

    now = now or timezone.now()
    user_id = str(user.pk)
    ended = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=now).iterator()
        if str(session.get_decoded().get("_auth_user_id")) == user_id
    ]
    Session.objects.filter(session_key__in=ended).delete()
    unlinked = WmsApiKey.objects.filter(created_by_id=user.pk).update(created_by=None, creator_left_at=now)
    return {"sessions": len(ended), "wms_keys": unlinked}

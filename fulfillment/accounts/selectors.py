"""Reads about accounts: client address, password history, second-factor state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.http import HttpRequest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from fulfillment.accounts.models import PasswordHistory


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


# --- The 90-day access review -------------------------------------------------------


@dataclass(frozen=True)
class UserAccess:
    username: str
    active: bool
    staff: bool
    superuser: bool
    roles: list[str]
    merchants: list[str]
    last_login: dt.datetime | None
    mfa_enrolled: bool
    password_set_at: dt.datetime | None
    locked_out: bool


@dataclass(frozen=True)
class KeyAccess:
    warehouse: str
    name: str
    key: str
    created_at: dt.datetime
    created_by: str
    creator_left_at: dt.datetime | None
    last_used_at: dt.datetime | None


@dataclass(frozen=True)
class AccessReview:
    users: list[UserAccess]
    keys: list[KeyAccess]
    findings: list[str]


def access_review(*, now: dt.datetime, stale_days: int = 90) -> AccessReview:
    """Everyone who can sign in and every live WMS key, with what a reviewer should act on.

    Amazon's DPP asks for an access review at least every 90 days; this is its
    input (users, roles, last login, second factor, keys) in a fixed number of queries.
    """
    from axes.models import AccessAttempt
    from django.contrib.auth import get_user_model
    from django.db.models import Exists, OuterRef, Prefetch, Subquery

    from connections.models import MerchantMembership
    from fulfillment.wms.models import WmsApiKey

    stale = now - dt.timedelta(days=stale_days)
    users = (
        get_user_model()
        .objects.order_by("-is_active", "username")
        .annotate(
            mfa=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            locked=Exists(
                AccessAttempt.objects.filter(
                    username=OuterRef("username"), failures_since_start__gte=settings.AXES_FAILURE_LIMIT
                )
            ),
            password_set_at=Subquery(
                PasswordHistory.objects.filter(user=OuterRef("pk"))
                .order_by("-created_at")
                .values("created_at")[:1]
            ),
        )
        .prefetch_related(
            "groups",
            Prefetch("merchant_memberships", queryset=MerchantMembership.objects.select_related("merchant")),
        )
    )
    rows, findings = [], []
    for user in users:
        row = UserAccess(
            username=user.get_username(),
            active=user.is_active,
            staff=user.is_staff,
            superuser=user.is_superuser,
            roles=sorted(g.name for g in user.groups.all()),
            merchants=sorted(m.merchant.name for m in user.merchant_memberships.all()),
            last_login=user.last_login,
            mfa_enrolled=user.mfa,
            password_set_at=user.password_set_at,
            locked_out=user.locked,
        )
        rows.append(row)
        if not row.active:
            continue
        if row.staff and not row.mfa_enrolled:
            findings.append(f"{row.username}: staff without a second factor (enrols at next login)")
        if row.last_login is None or row.last_login < stale:
            findings.append(
                f"{row.username}: no login for {stale_days}+ days: "
                "deactivate if they left or no longer need access"
            )
        if row.superuser:
            findings.append(f"{row.username}: superuser: confirm this person needs every permission")
        if row.staff and not (row.roles or row.superuser):
            findings.append(f"{row.username}: staff in no role: give a role or remove staff status")
    keys = []
    for key in (
        WmsApiKey.objects.filter(revoked_at__isnull=True)
        .select_related("warehouse", "created_by")
        .order_by("warehouse__code", "created_at")
    ):
        keys.append(
            KeyAccess(
                warehouse=key.warehouse.code,
                name=key.name,
                key=f"wms_{key.prefix}_…",
                created_at=key.created_at,
                created_by=key.created_by.get_username() if key.created_by else "",
                creator_left_at=key.creator_left_at,
                last_used_at=key.last_used_at,
            )
        )
        if key.creator_left_at:
            findings.append(
                f"WMS key {key.name} ({key.warehouse.code}): "
                f"its creator left {key.creator_left_at:%Y-%m-%d}: rotate it"
            )
        if key.last_used_at is None or key.last_used_at < stale:
            findings.append(
                f"WMS key {key.name} ({key.warehouse.code}): "
                f"unused for {stale_days}+ days: revoke if not needed"
            )
    return AccessReview(users=rows, keys=keys, findings=findings)

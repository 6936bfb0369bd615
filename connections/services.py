"""Writes for the Amazon side: authorizing stores, testing and marking them.

Admin actions, views and the `connect_store` command only call these.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import Warehouse

from .amazon import AmazonClient, AmazonError, authorization_code_exchange
from .models import Marketplace, OAuthState, Store

logger = logging.getLogger(__name__)

_STATE_SALT = "connections.oauth-state"
_MERCHANT_LINK_SALT = "connections.merchant-link"
# The browser that started a consent must be the one that comes back.
SESSION_NONCE_KEY = "connections_oauth_nonce"


class AuthorizationRefused(Exception):
    """A callback or link we will not act on; the message is shown to the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Re-authorization and connection tests ----------------------------------------


def _store_changed(store: Store, update_fields: list[str]) -> None:
    """Tell the jobs' schedules a store changed state.

    These changes are compare-and-set UPDATEs (safe against a person editing
    the store at the same time), which send no post_save; the order, shipment
    and inventory schedules follow the store through post_save receivers, so
    send it as a save of those fields would have.
    """
    post_save.send(
        sender=Store,
        instance=store,
        created=False,
        update_fields=frozenset(update_fields),
        raw=False,
        using="default",
    )


def store_mark_needs_reauthorization(*, store: Store, reason: str) -> None:
    """Amazon refused the refresh token: jobs skip the store (it is no longer
    `connected()`) until someone authorizes it again."""
    Store.objects.filter(pk=store.pk).update(
        authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION,
        authorization_error=reason,
        updated_at=timezone.now(),
    )
    store.authorization_status = Store.Authorization.NEEDS_REAUTHORIZATION
    store.authorization_error = reason
    _store_changed(store, ["authorization_status", "authorization_error", "updated_at"])
    logger.warning("Store %s needs re-authorization: %s", store.pk, reason)


@dataclass(frozen=True)
class ConnectionTestResult:
    ok: bool
    message: str


def store_test_connection(*, store: Store) -> ConnectionTestResult:
    """getMarketplaceParticipations, and is the store's marketplace among them?"""
    client = AmazonClient(
        store,
        timeout=settings.SP_API_TEST_CONNECTION_TIMEOUT,
        max_attempts=2,
        # A person is waiting: rather say "try again in a minute" than sleep.
        max_rate_wait=2.0,
    )
    try:
        participations = client.get_marketplace_participations()
    except AmazonError as exc:
        result = ConnectionTestResult(ok=False, message=f"Amazon refused the call: {exc}")
    else:
        marketplace_id = store.marketplace.marketplace_id
        mine = [p for p in participations if (p.get("marketplace") or {}).get("id") == marketplace_id]
        if not mine:
            result = ConnectionTestResult(
                ok=False,
                message=f"Connected, but the seller does not sell in {store.marketplace} ({marketplace_id}).",
            )
        elif not (mine[0].get("participation") or {}).get("isParticipating", True):
            result = ConnectionTestResult(
                ok=False,
                message=f"The seller's {store.marketplace} account is not participating (suspended?).",
            )
        else:
            result = ConnectionTestResult(ok=True, message=f"Connected to {store.marketplace}.")
    now = timezone.now()
    Store.objects.filter(pk=store.pk).update(
        last_connection_test_at=now,
        last_connection_test_ok=result.ok,
        last_connection_test_message=result.message,
    )
    store.last_connection_test_at = now
    store.last_connection_test_ok = result.ok
    store.last_connection_test_message = result.message
    return result


# --- Authorization (Amazon's website workflow) ------------------------------------


def oauth_redirect_uri() -> str:
    return settings.PUBLIC_BASE_URL + reverse("connections:oauth_callback")


def oauth_state_issue(*, store: Store, flow: str) -> tuple[str, str]:
    """A new single-use state for `store`; returns (signed state, nonce)."""
    nonce = secrets.token_urlsafe(32)
    OAuthState.objects.create(
        nonce=nonce,
        store=store,
        flow=flow,
        expires_at=timezone.now() + timedelta(seconds=settings.OAUTH_STATE_MAX_AGE_SECONDS),
    )
    return signing.dumps(nonce, salt=_STATE_SALT), nonce


def oauth_consent_url(*, store: Store, state: str) -> str:
    base = settings.SELLER_CENTRAL_URL or store.marketplace.seller_central_url.rstrip("/")
    params = {
        "application_id": settings.SP_API_APP_ID,
        "state": state,
        "redirect_uri": oauth_redirect_uri(),
    }
    if settings.SP_API_APP_IS_DRAFT:
        params["version"] = "beta"
    return f"{base}/apps/authorize/consent?{urlencode(params)}"


def oauth_start(*, store: Store, flow: str) -> tuple[str, str]:
    """Begin a consent: returns (Amazon consent URL, nonce for the session)."""
    state, nonce = oauth_state_issue(store=store, flow=flow)
    return oauth_consent_url(store=store, state=state), nonce


def _state_consume(*, state: str, session_nonce: str | None) -> OAuthState:
    try:
        nonce = signing.loads(state, salt=_STATE_SALT, max_age=settings.OAUTH_STATE_MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise AuthorizationRefused("This authorization link has expired. Please start again.") from exc
    except signing.BadSignature as exc:
        raise AuthorizationRefused(
            "The authorization answer does not match any request we made (invalid state)."
        ) from exc
    if not session_nonce or not secrets.compare_digest(str(nonce), session_nonce):
        raise AuthorizationRefused(
            "This authorization was started in another browser or session (state mismatch). "
            "Please start again from the same browser."
        )
    now = timezone.now()
    # Compare-and-set: of two requests with the same state, one wins.
    claimed = OAuthState.objects.filter(nonce=nonce, consumed_at=None, expires_at__gt=now).update(
        consumed_at=now
    )
    record = OAuthState.objects.select_related("store", "store__marketplace").filter(nonce=nonce).first()
    if record is None:
        raise AuthorizationRefused("The authorization answer does not match any request we made.")
    if not claimed:
        if record.consumed_at is not None:
            raise AuthorizationRefused("This authorization answer was already used. Please start again.")
        raise AuthorizationRefused("This authorization link has expired. Please start again.")
    return record


def oauth_callback_complete(
    *,
    state: str,
    session_nonce: str | None,
    code: str,
    selling_partner_id: str,
    error: str = "",
    error_description: str = "",
) -> Store:
    """Check the consent page's answer, exchange the code, store the token.

    Any refusal raises AuthorizationRefused and leaves the store unchanged.
    """
    if error:
        # Amazon still echoes the state; spend it so the answer cannot be replayed.
        if state:
            with contextlib.suppress(AuthorizationRefused):
                _state_consume(state=state, session_nonce=session_nonce)
        detail = f" ({error_description})" if error_description else ""
        raise AuthorizationRefused(f"Amazon did not authorize the app: {error}{detail}. Nothing was changed.")
    if not state:
        raise AuthorizationRefused("The authorization answer carries no state.")
    record = _state_consume(state=state, session_nonce=session_nonce)
    store = record.store
    if not code or not selling_partner_id:
        raise AuthorizationRefused("Amazon's answer lacks the authorization code or the seller id.")
    if store.selling_partner_id and store.selling_partner_id != selling_partner_id:
        raise AuthorizationRefused(
            f"This store is connected to Amazon seller {store.selling_partner_id}, but seller "
            f"{selling_partner_id} authorized. Create a separate store for that seller."
        )
    other = (
        Store.objects.filter(marketplace=store.marketplace, selling_partner_id=selling_partner_id)
        .exclude(pk=store.pk)
        .first()
    )
    if other is not None:
        raise AuthorizationRefused(
            f"Amazon seller {selling_partner_id} is already connected in {store.marketplace} "
            f"as the store “{other.name}”."
        )
    try:
        refresh_token = authorization_code_exchange(code=code, redirect_uri=oauth_redirect_uri())
    except AmazonError as exc:
        raise AuthorizationRefused(f"Amazon did not accept the authorization: {exc.message}") from exc

    merchant_flow = record.flow == OAuthState.Flow.MERCHANT_LINK
    store.selling_partner_id = selling_partner_id
    store.refresh_token = refresh_token
    store.authorization_error = ""
    store.authorization_status = (
        Store.Authorization.AUTHORIZED_BY_MERCHANT if merchant_flow else Store.Authorization.CONNECTED
    )
    fields = [
        "selling_partner_id",
        "refresh_token",
        "authorization_error",
        "authorization_status",
        "updated_at",
    ]
    if not merchant_flow:
        store.authorized_at = timezone.now()
        fields.append("authorized_at")
    try:
        with transaction.atomic():
            store.save(update_fields=fields)
    except IntegrityError as exc:  # a concurrent callback won the unique constraint
        raise AuthorizationRefused(
            f"Amazon seller {selling_partner_id} is already connected in {store.marketplace}."
        ) from exc
    logger.info("Store %s authorized by seller %s (%s)", store.pk, selling_partner_id, record.flow)
    return store


def store_send_authorization_link(*, store: Store, email: str) -> str:
    """Email the merchant a signed link to authorize its own account; returns the link."""
    token = signing.dumps({"store": store.pk}, salt=_MERCHANT_LINK_SALT)
    link = settings.PUBLIC_BASE_URL + reverse("connections:merchant_authorize", args=[token])
    context = {
        "store": store,
        "link": link,
        "days": settings.MERCHANT_LINK_MAX_AGE_DAYS,
        "warehouse": store.warehouse,
    }
    send_mail(
        subject=f"Authorize {store.warehouse.name} to fulfil your Amazon orders ({store.marketplace.code})",
        message=render_to_string("connections/merchant_link_email.txt", context),
        from_email=None,
        recipient_list=[email],
    )
    store.merchant_email = email
    fields = ["merchant_email", "updated_at"]
    if store.authorization_status != Store.Authorization.CONNECTED:
        store.authorization_status = Store.Authorization.AWAITING_MERCHANT
        fields.append("authorization_status")
    store.save(update_fields=fields)
    return link


def merchant_link_store(*, token: str) -> Store:
    """The store a merchant's emailed link is for, if the link is genuine and current."""
    try:
        data = signing.loads(
            token, salt=_MERCHANT_LINK_SALT, max_age=timedelta(days=settings.MERCHANT_LINK_MAX_AGE_DAYS)
        )
    except signing.SignatureExpired as exc:
        raise AuthorizationRefused("This link has expired. Ask your warehouse to send a new one.") from exc
    except signing.BadSignature as exc:
        raise AuthorizationRefused("This link is not valid. Ask your warehouse to send a new one.") from exc
    store = Store.objects.select_related("marketplace", "warehouse").filter(pk=data.get("store")).first()
    if store is None or not store.is_active:
        raise AuthorizationRefused("This link is no longer valid. Ask your warehouse to send a new one.")
    if store.authorization_status == Store.Authorization.CONNECTED:
        raise AuthorizationRefused("This store is already connected; there is nothing more to do.")
    return store


def store_finalize_authorization(*, store: Store) -> bool:
    """The warehouse accepts a merchant's authorization; False if there was none waiting."""
    now = timezone.now()
    changed = Store.objects.filter(
        pk=store.pk, authorization_status=Store.Authorization.AUTHORIZED_BY_MERCHANT
    ).update(authorization_status=Store.Authorization.CONNECTED, authorized_at=now, updated_at=now)
    if changed:
        store.authorization_status = Store.Authorization.CONNECTED
        store.authorized_at = now
        _store_changed(store, ["authorization_status", "authorized_at", "updated_at"])
    return bool(changed)


def store_connect(
    *,
    name: str,
    marketplace_code: str,
    selling_partner_id: str,
    refresh_token: str,
    warehouse_code: str | None = None,
) -> tuple[Store, bool]:
    """Create or update a connected store without the browser flow (connect_store)."""
    marketplace = Marketplace.objects.get(code=marketplace_code.upper())
    warehouse = None
    if warehouse_code:
        warehouse, _ = Warehouse.objects.get_or_create(code=warehouse_code, defaults={"name": warehouse_code})
    now = timezone.now()
    with transaction.atomic():
        store = Store.objects.select_for_update().filter(name=name).first()
        created = store is None
        if created:
            if warehouse is None:
                warehouses = list(Warehouse.objects.all()[:2])
                if len(warehouses) != 1:
                    raise ValueError("Give --warehouse CODE: no single warehouse to default to.")
                warehouse = warehouses[0]
            store = Store(name=name, warehouse=warehouse, marketplace=marketplace)
        store.marketplace = marketplace
        if warehouse is not None:
            store.warehouse = warehouse
        store.selling_partner_id = selling_partner_id
        store.refresh_token = refresh_token
        store.authorization_status = Store.Authorization.CONNECTED
        store.authorization_error = ""
        store.authorized_at = now
        store.full_clean(exclude=["refresh_token"])
        store.save()
    return store, created

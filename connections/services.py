"""Writes for the Amazon side: authorizing stores, testing and marking them.

Admin actions, views and the `connect_store` command only call these. A
store's connection decides its job schedules: the caller brings them in step
afterwards (fulfillment.jobs.schedules.schedules_sync), since connections sit
below the jobs and do not import them; the schedule repair catches any
caller that did not.
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
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from .amazon import AmazonClient, AmazonError, ReauthorizationRequired, authorization_code_exchange
from .errors import AuthorizationRefused
from .merchant_links import (
    merchant_link_open,
    merchant_link_refuse_unless_open,
    merchant_link_use,
    merchant_links_revoke,
    store_send_authorization_link,
)
from .models import OAuthState, Store
from .participation import ParticipationCheck, participation_verdict, seller_participation_check
from .selectors import marketplace_find

__all__ = ["AuthorizationRefused", "store_send_authorization_link"]  # re-exported for callers


def _warehouses():
    # The warehouse model belongs to the orders package, which sits above this
    # one: reach it through the store's relation instead of importing upward.
    return Store._meta.get_field("warehouse").related_model.objects


logger = logging.getLogger(__name__)

_STATE_SALT = "connections.oauth-state"
# The browser that started a consent must be the one that comes back.
SESSION_NONCE_KEY = "connections_oauth_nonce"


# --- Re-authorization and connection tests ----------------------------------------


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
    logger.warning("Store %s needs re-authorization: %s", store.pk, reason)


def store_reauthorization_record(*, store: Store, error: BaseException) -> bool:
    """If `error` is Amazon refusing the store's refresh token, record that on the store.

    The Amazon adapter only raises ReauthorizationRequired; every caller that
    ran a call for a stored store hands what it caught to this one function
    (until one job runner owns it). Returns whether the error was that.
    """
    if not (isinstance(error, ReauthorizationRequired) and error.token_refused):
        return False
    store_mark_needs_reauthorization(store=store, reason=error.message)
    return True


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
        store_reauthorization_record(store=store, error=exc)
        result = ConnectionTestResult(ok=False, message=f"Amazon refused the call: {exc}")
    else:
        verdict = participation_verdict(
            participations=participations,
            marketplace=store.marketplace,
            selling_partner_id=store.selling_partner_id,
        )
        message = f"Connected to {store.marketplace}." if verdict.ok else verdict.message
        result = ConnectionTestResult(ok=verdict.ok, message=message)
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


# --- The marketplace check every connection passes --------------------------------


def store_participation_refused(*, store: Store, check: ParticipationCheck) -> None:
    """Amazon rules the seller out for the store's marketplace: say why on the
    store, and take away what would let jobs run for it."""
    now = timezone.now()
    store.authorization_error = check.message
    store.last_connection_test_at = now
    store.last_connection_test_ok = False
    store.last_connection_test_message = check.message
    fields = [
        "authorization_error",
        "last_connection_test_at",
        "last_connection_test_ok",
        "last_connection_test_message",
        "updated_at",
    ]
    if store.authorization_status in (
        Store.Authorization.CONNECTED,
        Store.Authorization.AUTHORIZED_BY_MERCHANT,
    ):
        store.authorization_status = Store.Authorization.NOT_CONNECTED
        store.refresh_token = ""
        fields += ["authorization_status", "refresh_token"]
        if store.authorized_at is None:
            # Never connected: the seller id was only this attempt's; free the store for another.
            store.selling_partner_id = ""
            fields.append("selling_partner_id")
    store.save(update_fields=fields)
    logger.info("Store %s not connected: %s", store.pk, check.participation)


def _connected_fields(store: Store, check: ParticipationCheck, now) -> list[str]:
    """Set what a successful check leaves on a store about to be saved as connected."""
    store.authorization_error = ""
    store.last_connection_test_at = now
    store.last_connection_test_ok = True
    store.last_connection_test_message = f"Connected to {store.marketplace}. {check.message}"
    return ["authorization_error", "last_connection_test_at", "last_connection_test_ok",
            "last_connection_test_message"]  # fmt: skip


def _check_or_refuse(*, store: Store, selling_partner_id: str, refresh_token: str) -> ParticipationCheck:
    check = seller_participation_check(
        marketplace=store.marketplace,
        selling_partner_id=selling_partner_id,
        refresh_token=refresh_token,
        store_pk=store.pk,
    )
    if check.ok:
        return check
    if check.refuses:
        store_participation_refused(store=store, check=check)
        raise AuthorizationRefused(
            f"The store “{store.name}” was not connected. {check.message}", store_changed=True
        )
    raise AuthorizationRefused(
        f"The store “{store.name}” was not connected. {check.message} Please try again in a few minutes."
    )


# --- Authorization (Amazon's website workflow) ------------------------------------


def oauth_redirect_uri() -> str:
    return settings.PUBLIC_BASE_URL + reverse("connections:oauth_callback")


def oauth_state_issue(*, store: Store, flow: str, merchant_link=None) -> tuple[str, str]:
    """A new single-use state for `store`; returns (signed state, nonce)."""
    nonce = secrets.token_urlsafe(32)
    OAuthState.objects.create(
        nonce=nonce,
        store=store,
        flow=flow,
        merchant_link=merchant_link,
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


@sensitive_variables("token")
def merchant_link_start(*, token: str) -> tuple[str, str]:
    """The merchant pressed Continue on its link's page: returns (consent URL, session nonce)."""
    link = merchant_link_open(token=token)
    # One consent in flight per link: opening it again replaces the earlier attempt,
    # so repeated POSTs leave one state row, not one each.
    OAuthState.objects.filter(merchant_link=link, consumed_at=None).delete()
    state, nonce = oauth_state_issue(store=link.store, flow=OAuthState.Flow.MERCHANT_LINK, merchant_link=link)
    return oauth_consent_url(store=link.store, state=state), nonce


def oauth_state_is_pending(*, state: str, session_nonce: str | None) -> bool:
    """Is this callback's state the one this browser is waiting for?

    A stray callback (an old tab, another store's answer, a forged link) must
    not cancel the consent in progress: only the pending state's answer ends it.
    """
    if not state or not session_nonce:
        return False
    try:
        nonce = signing.loads(state, salt=_STATE_SALT)  # expired or not: it is still this one
    except signing.BadSignature:
        return False
    return secrets.compare_digest(str(nonce), session_nonce)


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
    record = (
        OAuthState.objects.select_related("store", "store__marketplace", "store__warehouse", "merchant_link")
        .filter(nonce=nonce)
        .first()
    )
    if record is None:
        raise AuthorizationRefused("The authorization answer does not match any request we made.")
    if not claimed:
        if record.consumed_at is not None:
            raise AuthorizationRefused("This authorization answer was already used. Please start again.")
        raise AuthorizationRefused("This authorization link has expired. Please start again.")
    return record


@sensitive_variables("state", "code", "refresh_token", "session_nonce")
def oauth_callback_complete(
    *,
    state: str,
    session_nonce: str | None,
    code: str,
    selling_partner_id: str,
    error: str = "",
    error_description: str = "",
) -> Store:
    """Check the consent page's answer, exchange the code, check the seller sells
    in the store's marketplace, store the token.

    Any refusal raises AuthorizationRefused; only a seller Amazon rules out for
    the marketplace is recorded on the store (`store_changed`).
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
    merchant_flow = record.flow == OAuthState.Flow.MERCHANT_LINK
    if merchant_flow:
        if record.merchant_link is None:
            raise AuthorizationRefused("This link is no longer valid. Ask your warehouse to send a new one.")
        # Before spending Amazon's code: a replaced or used link connects nothing.
        merchant_link_refuse_unless_open(link=record.merchant_link, now=timezone.now())
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
    check = _check_or_refuse(store=store, selling_partner_id=selling_partner_id, refresh_token=refresh_token)

    now = timezone.now()
    # A re-authorization of a connected store by the seller it is connected to
    # renews the token and stays connected: a warehouse admin already confirmed
    # this seller once, and the store's jobs must not stop meanwhile.
    renewal = (
        merchant_flow
        and record.merchant_link.reauthorization
        and store.authorization_status == Store.Authorization.CONNECTED
        and store.selling_partner_id == selling_partner_id
    )
    store.selling_partner_id = selling_partner_id
    store.refresh_token = refresh_token
    store.authorization_status = (
        Store.Authorization.AUTHORIZED_BY_MERCHANT
        if merchant_flow and not renewal
        else Store.Authorization.CONNECTED
    )
    fields = ["selling_partner_id", "refresh_token", "authorization_status", "updated_at"]
    fields += _connected_fields(store, check, now)
    if not merchant_flow or renewal:
        store.authorized_at = now
        fields.append("authorized_at")
    try:
        with transaction.atomic():
            if merchant_flow:
                merchant_link_use(link=record.merchant_link, now=now)
            # Any other link still out for this store dies with this consent.
            merchant_links_revoke(store=store, now=now, keep=record.merchant_link)
            store.save(update_fields=fields)
    except IntegrityError as exc:  # a concurrent callback won the unique constraint
        raise AuthorizationRefused(
            f"Amazon seller {selling_partner_id} is already connected in {store.marketplace}."
        ) from exc
    logger.info("Store %s authorized by seller %s (%s)", store.pk, selling_partner_id, record.flow)
    return store


@dataclass(frozen=True)
class FinalizeResult:
    connected: bool
    message: str


def store_finalize_authorization(*, store: Store) -> FinalizeResult:
    """The warehouse accepts a merchant's authorization, once Amazon confirms the
    seller sells in the store's marketplace."""
    store.refresh_from_db()
    if store.authorization_status != Store.Authorization.AUTHORIZED_BY_MERCHANT:
        return FinalizeResult(False, f"{store} has no merchant authorization waiting.")
    try:
        check = _check_or_refuse(
            store=store, selling_partner_id=store.selling_partner_id, refresh_token=store.refresh_token
        )
    except AuthorizationRefused as exc:
        return FinalizeResult(False, exc.message)
    now = timezone.now()
    with transaction.atomic():
        # Compare-and-set: a second Finalize (or a new link sent meanwhile) changes nothing.
        changed = Store.objects.filter(
            pk=store.pk, authorization_status=Store.Authorization.AUTHORIZED_BY_MERCHANT
        ).update(authorization_status=Store.Authorization.CONNECTED, authorized_at=now, updated_at=now)
        if changed:
            merchant_links_revoke(store=store, now=now)
            fields = _connected_fields(store, check, now)
            Store.objects.filter(pk=store.pk).update(**{f: getattr(store, f) for f in fields})
    if not changed:
        return FinalizeResult(False, f"{store} has no merchant authorization waiting.")
    store.authorization_status = Store.Authorization.CONNECTED
    store.authorized_at = now
    return FinalizeResult(True, f"{store} is connected. {check.message}")


@sensitive_variables("refresh_token")
def store_connect(
    *,
    name: str,
    marketplace_code: str,
    selling_partner_id: str,
    refresh_token: str,
    warehouse_code: str | None = None,
) -> tuple[Store, bool]:
    """Create or update a connected store without the browser flow (connect_store).

    Amazon must first confirm the seller sells in the marketplace; otherwise
    AuthorizationRefused, and nothing is created or changed.
    """
    marketplace = marketplace_find(name=marketplace_code)
    existing = Store.objects.filter(name=name).only("pk").first()
    if existing is None and not warehouse_code and _warehouses().count() != 1:
        raise ValueError("Give --warehouse CODE: no single warehouse to default to.")
    candidate = Store(pk=existing.pk if existing else None, name=name, marketplace=marketplace)
    check = seller_participation_check(
        marketplace=marketplace,
        selling_partner_id=selling_partner_id,
        refresh_token=refresh_token,
        store_pk=candidate.pk,
    )
    if not check.ok:
        raise AuthorizationRefused(f"Store {name} was not connected: {check.message}")
    warehouse = None
    if warehouse_code:
        warehouse, _ = _warehouses().get_or_create(code=warehouse_code, defaults={"name": warehouse_code})
    now = timezone.now()
    with transaction.atomic():
        store = Store.objects.select_for_update().filter(name=name).first()
        created = store is None
        if created:
            warehouse = warehouse or _warehouses().get()
            store = Store(name=name, warehouse=warehouse, marketplace=marketplace)
        store.marketplace = marketplace
        if warehouse is not None:
            store.warehouse = warehouse
        store.selling_partner_id = selling_partner_id
        store.refresh_token = refresh_token
        store.authorization_status = Store.Authorization.CONNECTED
        store.authorized_at = now
        _connected_fields(store, check, now)
        store.full_clean(exclude=["refresh_token"])
        store.save()
        if not created:
            merchant_links_revoke(store=store, now=now)
    return store, created

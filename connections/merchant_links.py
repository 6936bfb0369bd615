"""The authorization links emailed to merchants: random, stored as a hash,
single-use, expiring, and revoked by the next link sent for the same store.

The emailed URL carries the token in its query string, which no access log
keeps (fulfillment/settings.py LOGGING and the gunicorn access log format);
opening it shows a page that POSTs the token back, so a bare GET writes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from .errors import AuthorizationRefused
from .models import MerchantLink, Store

# Longer than any token we issue (43 characters); anything longer is not ours.
_MAX_TOKEN_LENGTH = 100


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def merchant_link_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("connections:merchant_link") + "?" + urlencode({"token": token})


def merchant_links_revoke(*, store: Store, now: datetime, keep: MerchantLink | None = None) -> int:
    """Revoke the store's links that could still be used (all but `keep`)."""
    links = MerchantLink.objects.filter(store=store, used_at=None, revoked_at=None)
    if keep is not None:
        links = links.exclude(pk=keep.pk)
    return links.update(revoked_at=now)


def merchant_links_withdraw(*, links) -> int:
    """Revoke these links (the admin's action), leaving used and revoked ones as they are."""
    return links.filter(used_at=None, revoked_at=None).update(revoked_at=timezone.now())


class StoreAlreadyConnected(Exception):
    """A link for a connected store is a re-authorization: the caller must ask for one."""


@sensitive_variables("token", "link", "context")
def store_send_authorization_link(*, store: Store, email: str, reauthorization: bool = False) -> str:
    """Email the merchant a new link to authorize its own account; returns the link.

    Revokes the store's earlier links in the same transaction; if the email
    cannot be sent nothing changes (the earlier link stays valid). A store
    already connected gets a link only as a re-authorization (`reauthorization`,
    after a person confirmed it; StoreAlreadyConnected otherwise): a plain
    link would only tell the merchant "already connected".
    """
    connected = store.authorization_status == Store.Authorization.CONNECTED
    if connected and not reauthorization:
        raise StoreAlreadyConnected(f"{store} is already connected: send a re-authorization instead.")
    token = secrets.token_urlsafe(32)
    link = merchant_link_url(token)
    now = timezone.now()
    context = {
        "store": store,
        "link": link,
        "days": settings.MERCHANT_LINK_MAX_AGE_DAYS,
        "warehouse": store.warehouse,
        "reauthorization": connected,
    }
    with transaction.atomic():
        merchant_links_revoke(store=store, now=now)
        MerchantLink.objects.create(
            store=store,
            token_hash=_digest(token),
            email=email,
            expires_at=now + timedelta(days=settings.MERCHANT_LINK_MAX_AGE_DAYS),
            reauthorization=connected,
        )
        store.merchant_email = email
        fields = ["merchant_email", "updated_at"]
        if store.authorization_status != Store.Authorization.CONNECTED:
            store.authorization_status = Store.Authorization.AWAITING_MERCHANT
            fields.append("authorization_status")
        store.save(update_fields=fields)
        send_mail(
            subject=(
                f"Authorize {store.warehouse.name} to fulfil your Amazon orders ({store.marketplace.code})"
            ),
            message=render_to_string("connections/merchant_link_email.txt", context),
            from_email=None,
            recipient_list=[email],
        )
    return link


def merchant_link_refuse_unless_open(*, link: MerchantLink, now: datetime) -> None:
    """Raise (410) unless the link may still start or complete a consent."""
    store = link.store
    ask = f"Ask {store.warehouse.name} to send a new one."
    if link.used_at is not None:
        raise AuthorizationRefused(
            f"This link was already used on {link.used_at:%Y-%m-%d}; each link works once. {ask}", status=410
        )
    if link.revoked_at is not None:
        raise AuthorizationRefused(
            "This link was replaced by a newer one or withdrawn. Use the most recent email from "
            f"{store.warehouse.name}, or ask for a new link.",
            status=410,
        )
    if link.expires_at <= now:
        raise AuthorizationRefused(f"This link has expired. {ask}", status=410)
    if not store.is_active:
        raise AuthorizationRefused(f"This link is no longer valid. {ask}", status=410)
    if store.authorization_status == Store.Authorization.CONNECTED and not link.reauthorization:
        raise AuthorizationRefused(
            "This store is already connected; there is nothing more to do.", status=410
        )


@sensitive_variables("token")
def merchant_link_open(*, token: str) -> MerchantLink:
    """The link behind `token`, if it may start a consent. Reads only."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise AuthorizationRefused("This link is not valid. Ask your warehouse to send a new one.")
    link = (
        MerchantLink.objects.select_related("store", "store__marketplace", "store__warehouse")
        .filter(token_hash=_digest(token))
        .first()
    )
    if link is None:
        # Unknown, mistyped, or expired long enough ago to have been purged.
        raise AuthorizationRefused(
            "This link is not valid or has expired. Ask your warehouse to send a new one."
        )
    merchant_link_refuse_unless_open(link=link, now=timezone.now())
    return link


def merchant_link_use(*, link: MerchantLink, now: datetime) -> None:
    """Spend the link (compare-and-set: of two consents through one link, one wins)."""
    used = MerchantLink.objects.filter(pk=link.pk, used_at=None, revoked_at=None, expires_at__gt=now).update(
        used_at=now
    )
    if not used:
        link.refresh_from_db()
        merchant_link_refuse_unless_open(link=link, now=now)
        raise AuthorizationRefused("This link is no longer valid.", status=410)
    link.used_at = now

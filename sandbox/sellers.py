"""Amazon's accounts in the sandbox: the application, sellers, and the LWA
credentials issued to them (refresh tokens, authorization codes, access tokens).

Views, the admin, commands and other engineers' tests call these; they take
keyword arguments only.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.models import Marketplace
from connections.selectors import marketplaces_named

from .models import (
    SandboxAccessToken,
    SandboxApplication,
    SandboxAuthorizationCode,
    SandboxRefreshToken,
    SandboxSeller,
)

ACCESS_TOKEN_SECONDS = 3600
AUTHORIZATION_CODE_SECONDS = 300


class LwaError(Exception):
    """An LWA refusal: `error` is the OAuth error code, `status` the HTTP status."""

    def __init__(self, *, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def as_body(self) -> dict:
        return {"error": self.error, "error_description": self.description}


# --- Credentials and sellers ---------------------------------------------------------


def sandbox_application_ensure() -> SandboxApplication:
    """The application the product's settings describe, registered with the sandbox."""
    application, _ = SandboxApplication.objects.update_or_create(
        client_id=settings.LWA_CLIENT_ID or "amzn1.application-oa2-client.sandbox",
        defaults=dict(
            client_secret=settings.LWA_CLIENT_SECRET or "sandbox-client-secret",
            application_id=settings.SP_API_APP_ID or "amzn1.sp.solution.sandbox",
            redirect_uri=settings.PUBLIC_BASE_URL + "/connections/oauth/callback/",
        ),
    )
    return application


def _marketplaces(names) -> list[Marketplace]:
    """Marketplaces by the names people and Amazon use (US, UK or GB, or the id)."""
    return [m for name in names for m in marketplaces_named(name=name)]


def sandbox_seller_ensure(
    *,
    selling_partner_id: str,
    name: str = "",
    marketplace_codes: tuple[str, ...] | list[str] = ("US",),
    refresh_token: str | None = None,
    not_participating_in: tuple[str, ...] | list[str] | None = None,
    listings_suspended_in: tuple[str, ...] | list[str] | None = None,
) -> SandboxSeller:
    """A sandbox seller selling in `marketplace_codes`.

    `not_participating_in` / `listings_suspended_in` (marketplace codes; None
    leaves them as they are) make getMarketplaceParticipations answer
    isParticipating false / hasSuspendedListings true there.

    With `refresh_token`, exactly that token becomes valid for the sandbox
    application, so a product Store already holding it can call straight away.
    """
    seller, created = SandboxSeller.objects.get_or_create(
        selling_partner_id=selling_partner_id,
        defaults=dict(name=name or f"Sandbox seller {selling_partner_id}"),
    )
    if name and not created and seller.name != name:
        seller.name = name
        seller.save(update_fields=["name"])
    seller.marketplaces.add(*_marketplaces(marketplace_codes))
    if not_participating_in is not None:
        seller.not_participating_in.set(_marketplaces(not_participating_in))
    if listings_suspended_in is not None:
        seller.listings_suspended_in.set(_marketplaces(listings_suspended_in))
    if refresh_token:
        SandboxRefreshToken.objects.update_or_create(
            token=refresh_token,
            defaults=dict(application=sandbox_application_ensure(), seller=seller, revoked_at=None),
        )
    return seller


def refresh_token_issue(*, application: SandboxApplication, seller: SandboxSeller) -> SandboxRefreshToken:
    return SandboxRefreshToken.objects.create(
        application=application, seller=seller, token="Atzr|" + secrets.token_urlsafe(48)
    )


def refresh_token_revoke(*, token: SandboxRefreshToken) -> None:
    SandboxRefreshToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now())


def authorization_code_issue(
    *, application: SandboxApplication, seller: SandboxSeller, redirect_uri: str
) -> SandboxAuthorizationCode:
    return SandboxAuthorizationCode.objects.create(
        application=application,
        seller=seller,
        code="ANDb" + secrets.token_urlsafe(18),
        redirect_uri=redirect_uri,
        expires_at=timezone.now() + dt.timedelta(seconds=AUTHORIZATION_CODE_SECONDS),
    )


def _access_token_issue(
    *, application: SandboxApplication, seller: SandboxSeller | None, scope: str = ""
) -> SandboxAccessToken:
    return SandboxAccessToken.objects.create(
        application=application,
        seller=seller,
        scope=scope,
        token="Atza|" + secrets.token_urlsafe(48),
        expires_at=timezone.now() + dt.timedelta(seconds=ACCESS_TOKEN_SECONDS),
    )


def lwa_token_grant(
    *,
    grant_type: str,
    client_id: str,
    client_secret: str,
    refresh_token: str = "",
    code: str = "",
    redirect_uri: str = "",
    scope: str = "",
) -> dict:
    """POST /auth/o2/token: the answer body, or LwaError the way LWA refuses."""
    if grant_type not in ("refresh_token", "authorization_code", "client_credentials"):
        raise LwaError(status=400, error="unsupported_grant_type", description="Invalid grant_type")
    application = SandboxApplication.objects.filter(client_id=client_id).first()
    if application is None or not secrets.compare_digest(application.client_secret, client_secret or ""):
        raise LwaError(status=401, error="invalid_client", description="Client authentication failed")

    if grant_type == "client_credentials":
        if not scope:
            raise LwaError(status=400, error="invalid_scope", description="scope is required")
        token = _access_token_issue(application=application, seller=None, scope=scope)
        return {"access_token": token.token, "token_type": "bearer", "expires_in": ACCESS_TOKEN_SECONDS}

    if grant_type == "refresh_token":
        stored = (
            SandboxRefreshToken.objects.select_related("seller")
            .filter(token=refresh_token, application=application, revoked_at=None)
            .first()
        )
        if stored is None:
            raise LwaError(
                status=400,
                error="invalid_grant",
                description="The request has an invalid grant parameter : refresh_token",
            )
        token = _access_token_issue(application=application, seller=stored.seller)
        return {
            "access_token": token.token,
            "refresh_token": stored.token,
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
        }

    # authorization_code: single use. The compare-and-set claims the code so two
    # concurrent exchanges cannot both succeed.
    now = timezone.now()
    with transaction.atomic():
        claimed = SandboxAuthorizationCode.objects.filter(
            code=code, application=application, used_at=None, expires_at__gt=now
        ).update(used_at=now)
        if claimed != 1:
            raise LwaError(
                status=400,
                error="invalid_grant",
                description="The request has an invalid grant parameter : code",
            )
        auth_code = SandboxAuthorizationCode.objects.select_related("seller").get(code=code)
        if redirect_uri and redirect_uri != auth_code.redirect_uri:
            raise LwaError(
                status=400,
                error="invalid_grant",
                description="The request has an invalid grant parameter : redirect_uri",
            )
        stored = refresh_token_issue(application=application, seller=auth_code.seller)
        token = _access_token_issue(application=application, seller=auth_code.seller)
    return {
        "access_token": token.token,
        "refresh_token": stored.token,
        "token_type": "bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
    }

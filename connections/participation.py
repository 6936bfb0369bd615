"""Does this Amazon seller sell in this marketplace? Asked before any store is connected.

Every way of connecting a store (the consent callback, *Finalize* after a
merchant's consent, `connect_store`) asks Amazon's getMarketplaceParticipations
with the credentials about to be stored, and connects only a seller that
participates in the store's marketplace with its listings active. Otherwise
downloads would run for a seller Amazon sends no orders for.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from .amazon import AmazonClient, AmazonError, ReauthorizationRequired
from .models import Marketplace, Store


class Participation(enum.StrEnum):
    ACTIVE = "active"
    NOT_SELLING = "not_selling"  # no participation in the marketplace at all
    NOT_PARTICIPATING = "not_participating"  # isParticipating false
    LISTINGS_SUSPENDED = "listings_suspended"  # hasSuspendedListings true
    AUTHORIZATION_REFUSED = "authorization_refused"  # LWA refused the refresh token
    UNKNOWN = "unknown"  # Amazon could not be asked, or did not say


# The answers that settle it: the store must not be connected with these credentials.
REFUSING = frozenset(
    {
        Participation.NOT_SELLING,
        Participation.NOT_PARTICIPATING,
        Participation.LISTINGS_SUSPENDED,
        Participation.AUTHORIZATION_REFUSED,
    }
)


@dataclass(frozen=True)
class ParticipationCheck:
    participation: Participation
    message: str

    @property
    def ok(self) -> bool:
        return self.participation == Participation.ACTIVE

    @property
    def refuses(self) -> bool:
        """Amazon's answer rules the seller out (as opposed to: could not ask)."""
        return self.participation in REFUSING


def _where(marketplace: Marketplace) -> str:
    return f"{marketplace.country} ({marketplace.code}, {marketplace.marketplace_id})"


def participation_verdict(
    *, participations: list[dict], marketplace: Marketplace, selling_partner_id: str
) -> ParticipationCheck:
    """Read getMarketplaceParticipations' payload for one marketplace (the vendored
    sellers.json model: `participation.isParticipating` and `hasSuspendedListings`
    are both required booleans)."""
    who = f"seller {selling_partner_id}" if selling_partner_id else "this seller"
    entries = [p for p in participations if isinstance(p, dict) and isinstance(p.get("marketplace"), dict)]
    mine = [p for p in entries if p["marketplace"].get("id") == marketplace.marketplace_id]
    if not mine:
        elsewhere = sorted(
            {str(m.get("countryCode") or m.get("id")) for m in (p["marketplace"] for p in entries)}
        )
        sells_in = f"it sells in {', '.join(elsewhere)}" if elsewhere else "it sells in no marketplace"
        return ParticipationCheck(
            Participation.NOT_SELLING,
            f"Amazon says {who} does not sell in {_where(marketplace)}; {sells_in}. "
            f"Sign in with the Amazon account that sells in {marketplace.country}, "
            "or connect this seller as a store in one of its own marketplaces.",
        )
    flags = [p.get("participation") if isinstance(p.get("participation"), dict) else {} for p in mine]
    if any(f.get("isParticipating") is True and f.get("hasSuspendedListings") is False for f in flags):
        return ParticipationCheck(Participation.ACTIVE, f"Amazon says {who} sells in {_where(marketplace)}.")
    if any(f.get("isParticipating") is False for f in flags):
        return ParticipationCheck(
            Participation.NOT_PARTICIPATING,
            f"Amazon says {who} is not participating in {_where(marketplace)} "
            "(its selling account there is suspended or closed), so Amazon sends it no orders there. "
            "Connect again once Seller Central shows the account active.",
        )
    if any(f.get("hasSuspendedListings") is True for f in flags):
        return ParticipationCheck(
            Participation.LISTINGS_SUSPENDED,
            f"Amazon says {who} has its listings in {_where(marketplace)} "
            "suspended (listing status Inactive), so buyers cannot order. "
            "Connect again once the listings are active in Seller Central.",
        )
    return ParticipationCheck(
        Participation.UNKNOWN,
        f"Amazon's answer does not say whether {who} participates in {_where(marketplace)}.",
    )


@sensitive_variables("refresh_token", "candidate")
def seller_participation_check(
    *,
    marketplace: Marketplace,
    selling_partner_id: str,
    refresh_token: str,
    store_pk: int | None = None,
) -> ParticipationCheck:
    """Ask Amazon, with these credentials, whether the seller may be connected in `marketplace`."""
    candidate = Store(
        pk=store_pk,
        marketplace=marketplace,
        selling_partner_id=selling_partner_id,
        refresh_token=refresh_token,
    )
    # Credentials not stored yet: a refused token is the check's answer,
    # never recorded on the store.
    client = AmazonClient(
        candidate,
        timeout=settings.SP_API_TEST_CONNECTION_TIMEOUT,
        max_attempts=2,
        # A person is waiting: rather say "try again in a minute" than sleep.
        max_rate_wait=2.0,
    )
    try:
        participations = client.get_marketplace_participations()
    except ReauthorizationRequired as exc:
        return ParticipationCheck(
            Participation.AUTHORIZATION_REFUSED,
            f"Amazon does not accept this authorization ({exc.code or 'refused'}): "
            "the merchant must authorize the app again.",
        )
    except AmazonError as exc:
        return ParticipationCheck(
            Participation.UNKNOWN,
            f"Amazon could not be asked whether the seller sells in {_where(marketplace)}: "
            f"{exc.message.rstrip('.')}.",
        )
    return participation_verdict(
        participations=participations, marketplace=marketplace, selling_partner_id=selling_partner_id
    )

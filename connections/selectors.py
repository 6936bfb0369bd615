"""Reads for the Amazon side: marketplaces by any name people and Amazon use."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Marketplace
from .reference_data import ISO_FOR_AMAZON_CODE


class UnknownMarketplace(Marketplace.DoesNotExist):
    """No marketplace by that name; the message says what would have been accepted."""


def marketplaces_named(*, name: str) -> QuerySet[Marketplace]:
    """Marketplaces matching `name`: ISO code (GB), Amazon's table code (UK) or
    marketplace id (A1F83G8C2ARO7P), in any case and with stray spaces."""
    value = (name or "").strip().upper()
    if not value:
        return Marketplace.objects.none()
    iso = ISO_FOR_AMAZON_CODE.get(value, value)
    return Marketplace.objects.filter(Q(code=iso) | Q(marketplace_id=value))


def marketplace_find(*, name: str) -> Marketplace:
    marketplace = marketplaces_named(name=name).first()
    if marketplace is None:
        raise UnknownMarketplace(
            f"Unknown marketplace {name!r}: give a country code (US, DE, UK or GB, …) "
            "or an Amazon marketplace id (e.g. ATVPDKIKX0DER)."
        )
    return marketplace

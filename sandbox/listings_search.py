"""searchListingsItems (Listings Items 2021-08-01) over the sandbox's listings.

As the model says: `identifiers` (at most 20, with `identifiersType`),
`pageSize` (at most 20, default 10), `pageToken` from the previous page's
`nextToken` / `previousToken`, `sortBy` / `sortOrder` (default lastUpdatedDate
DESC), status and date filters, and at most 1,000 listings paged through
whatever `numberOfResults` says. A listing item gathers the SKU's offers in
the marketplaces asked for.

Switch (SandboxFaults.search_page_cap): serve fewer items per page than
`pageSize` asks, which Amazon's model does not rule out; clients must follow
`nextToken`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from django.db.models import Q
from django.utils.dateparse import parse_datetime

from .errors import SpApiError
from .models import SandboxFaults, SandboxListing, SandboxSeller

MAX_IDENTIFIERS = 20
MAX_PAGE_SIZE = 20
DEFAULT_PAGE_SIZE = 10
# "The maximum number of items (SKUs) that can be returned and paged through is 1000."
MAX_PAGED_ITEMS = 1000
IDENTIFIERS_TYPES = {"ASIN", "EAN", "FNSKU", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC"}
SORT_FIELDS = {"sku": "sku", "createdDate": "pk", "lastUpdatedDate": "updated_at"}
STATUSES = {"BUYABLE", "DISCOVERABLE"}


def _invalid(message: str) -> SpApiError:
    return SpApiError(status=400, code="InvalidInput", message=message)


@dataclass(frozen=True)
class ListingsSearch:
    marketplace_ids: tuple[str, ...]
    identifiers: tuple[str, ...] = ()
    identifiers_type: str = ""
    variation_parent_sku: str = ""
    package_hierarchy_sku: str = ""
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    last_updated_after: dt.datetime | None = None
    last_updated_before: dt.datetime | None = None
    with_status: tuple[str, ...] = ()
    without_status: tuple[str, ...] = ()
    sort_by: str = "lastUpdatedDate"
    sort_order: str = "DESC"
    page_size: int = DEFAULT_PAGE_SIZE

    def fingerprint(self) -> str:
        # A page token is only good for the search that produced it.
        fields = {k: str(v) for k, v in self.__dict__.items() if k != "page_size"}
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def _when(name: str, value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise _invalid(f"{name} must be an ISO 8601 date-time with a zone.")
    return parsed


def listings_search_parse(*, params: dict[str, list[str]], one: dict[str, str]) -> tuple[ListingsSearch, int]:
    """The search a query string asks for, and the offset its pageToken points at.

    `params` holds the array parameters (already split on commas), `one` the
    single-valued ones. Raises SpApiError 400 as Amazon would.
    """
    marketplace_ids = tuple(params.get("marketplaceIds") or ())
    if not marketplace_ids:
        raise _invalid("marketplaceIds is required.")
    identifiers = tuple(params.get("identifiers") or ())
    identifiers_type = one.get("identifiersType", "")
    if len(identifiers) > MAX_IDENTIFIERS:
        raise _invalid(f"identifiers takes at most {MAX_IDENTIFIERS} values.")
    if identifiers_type and identifiers_type not in IDENTIFIERS_TYPES:
        raise _invalid(f"Invalid identifiersType: {identifiers_type}.")
    if bool(identifiers) != bool(identifiers_type):
        raise _invalid("identifiers and identifiersType go together.")
    variation = one.get("variationParentSku", "")
    package = one.get("packageHierarchySku", "")
    if sum(map(bool, (identifiers, variation, package))) > 1:
        raise _invalid("Use only one of identifiers, variationParentSku and packageHierarchySku.")
    statuses = {name: tuple(params.get(name) or ()) for name in ("withStatus", "withoutStatus")}
    for name, values in statuses.items():
        if set(values) - STATUSES:
            raise _invalid(f"Invalid {name}: {', '.join(sorted(set(values) - STATUSES))}.")
    sort_by = one.get("sortBy") or "lastUpdatedDate"
    sort_order = one.get("sortOrder") or "DESC"
    if sort_by not in SORT_FIELDS or sort_order not in ("ASC", "DESC"):
        raise _invalid("sortBy must be sku, createdDate or lastUpdatedDate; sortOrder ASC or DESC.")
    try:
        page_size = int(one.get("pageSize") or DEFAULT_PAGE_SIZE)
    except ValueError:
        raise _invalid("pageSize must be a whole number.") from None
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise _invalid(f"pageSize must be between 1 and {MAX_PAGE_SIZE}.")
    search = ListingsSearch(
        marketplace_ids=marketplace_ids,
        identifiers=identifiers,
        identifiers_type=identifiers_type,
        variation_parent_sku=variation,
        package_hierarchy_sku=package,
        created_after=_when("createdAfter", one.get("createdAfter")),
        created_before=_when("createdBefore", one.get("createdBefore")),
        last_updated_after=_when("lastUpdatedAfter", one.get("lastUpdatedAfter")),
        last_updated_before=_when("lastUpdatedBefore", one.get("lastUpdatedBefore")),
        with_status=statuses["withStatus"],
        without_status=statuses["withoutStatus"],
        sort_by=sort_by,
        sort_order=sort_order,
        page_size=page_size,
    )
    return search, _offset_from(one.get("pageToken", ""), search)


def _token(offset: int, search: ListingsSearch) -> str:
    raw = json.dumps({"offset": offset, "search": search.fingerprint()}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _offset_from(token: str, search: ListingsSearch) -> int:
    if not token:
        return 0
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = int(decoded["offset"])
        same = decoded["search"] == search.fingerprint()
    except (ValueError, TypeError, KeyError):
        raise _invalid("Invalid pageToken.") from None
    if not same or not 0 <= offset < MAX_PAGED_ITEMS:
        raise _invalid("The pageToken does not belong to this search.")
    return offset


@dataclass
class SearchPage:
    skus: list[str]  # in order
    listings: dict[str, list[SandboxListing]]  # sku -> its offers in the marketplaces asked for
    number_of_results: int
    next_token: str | None
    previous_token: str | None


def sandbox_listings_search(*, seller: SandboxSeller, search: ListingsSearch, offset: int) -> SearchPage:
    rows = SandboxListing.objects.filter(
        seller=seller, marketplace__marketplace_id__in=search.marketplace_ids
    )
    if search.identifiers_type == "SKU":
        rows = rows.filter(sku__in=search.identifiers)
    elif search.identifiers_type == "ASIN":
        rows = rows.filter(asin__in=search.identifiers)
    elif search.identifiers or search.variation_parent_sku or search.package_hierarchy_sku:
        # Sandbox listings carry no other identifiers, variations or package hierarchies.
        rows = rows.none()
    if search.last_updated_after:
        rows = rows.filter(updated_at__gte=search.last_updated_after)
    if search.last_updated_before:
        rows = rows.filter(updated_at__lte=search.last_updated_before)
    # Summaries say every sandbox listing was created on 2025-01-01.
    created = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    if (search.created_after and created < search.created_after) or (
        search.created_before and created > search.created_before
    ):
        rows = rows.none()
    buyable = Q(quantity__gt=0)
    if "BUYABLE" in search.with_status:
        rows = rows.filter(buyable)
    if "BUYABLE" in search.without_status:
        rows = rows.exclude(buyable)
    if "DISCOVERABLE" in search.without_status:
        rows = rows.none()  # every sandbox listing is discoverable
    field = SORT_FIELDS[search.sort_by]
    order = [f"-{field}" if search.sort_order == "DESC" else field, "sku"]
    skus = list(dict.fromkeys(rows.order_by(*order).values_list("sku", flat=True)))
    cap = SandboxFaults.current().search_page_cap
    size = min(search.page_size, cap) if cap else search.page_size
    end = min(offset + size, len(skus), MAX_PAGED_ITEMS)
    page = skus[offset:end]
    listings: dict[str, list[SandboxListing]] = {}
    for listing in rows.filter(sku__in=page).select_related("marketplace").order_by("marketplace__code"):
        listings.setdefault(listing.sku, []).append(listing)
    return SearchPage(
        skus=page,
        listings=listings,
        number_of_results=len(skus),
        next_token=_token(end, search) if end < min(len(skus), MAX_PAGED_ITEMS) else None,
        previous_token=_token(max(offset - search.page_size, 0), search) if offset > 0 else None,
    )

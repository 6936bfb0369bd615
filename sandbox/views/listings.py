"""Listings Items API 2021-08-01: getListingsItem, searchListingsItems and patchListingsItem."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from ..api import error_response, json_body, query_list, sp_api_operation
from ..errors import SpApiError
from ..listings import sandbox_listing_patch
from ..listings_search import listings_search_parse, sandbox_listings_search
from ..models import SandboxAccessToken, SandboxListing

INCLUDED_DATA = {
    "summaries",
    "attributes",
    "issues",
    "offers",
    "fulfillmentAvailability",
    "procurement",
    "relationships",
    "productTypes",
}


def _listing_as_wire(sku: str, listings: list[SandboxListing], included: set[str]) -> dict:
    wire: dict = {"sku": sku}
    if "summaries" in included:
        wire["summaries"] = [
            {
                "marketplaceId": listing.marketplace.marketplace_id,
                "asin": listing.asin or "B000000000",
                "productType": "PRODUCT",
                "conditionType": "new_new",
                "status": ["BUYABLE", "DISCOVERABLE"] if listing.quantity > 0 else ["DISCOVERABLE"],
                "itemName": listing.title or sku,
                "createdDate": "2025-01-01T00:00:00Z",
                "lastUpdatedDate": listing.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for listing in listings
        ]
    if "fulfillmentAvailability" in included:
        # One entry per channel, as Amazon shows a SKU's offers.
        by_channel = {listing.fulfillment_channel_code: listing for listing in listings}
        wire["fulfillmentAvailability"] = [
            {"fulfillmentChannelCode": code, "quantity": listing.quantity}
            for code, listing in by_channel.items()
        ]
    if "issues" in included:
        wire["issues"] = []
    if "attributes" in included:
        wire["attributes"] = {
            "fulfillment_availability": [_availability_attribute(listing) for listing in listings]
        }
    return wire


def _availability_attribute(listing: SandboxListing) -> dict:
    entry = {
        "fulfillment_channel_code": listing.fulfillment_channel_code,
        "quantity": listing.quantity,
        "marketplace_id": listing.marketplace.marketplace_id,
    }
    if listing.lead_time_to_ship_max_days is not None:
        entry["lead_time_to_ship_max_days"] = listing.lead_time_to_ship_max_days
    if listing.restock_date is not None:
        entry["restock_date"] = listing.restock_date.isoformat()
    return entry


@csrf_exempt
@require_http_methods(["GET", "PATCH"])
def listings_item(request: HttpRequest, seller_id: str, sku: str) -> HttpResponse:
    if request.method == "PATCH":
        return patch_listings_item(request, seller_id=seller_id, sku=sku)
    return get_listings_item(request, seller_id=seller_id, sku=sku)


def _check(
    request: HttpRequest, access: SandboxAccessToken, seller_id: str
) -> tuple[list[str], HttpResponse | None]:
    if seller_id != access.seller.selling_partner_id:
        return [], error_response(403, "Unauthorized", "Access to requested resource is denied.")
    marketplace_ids = query_list(request, "marketplaceIds")
    if not marketplace_ids:
        return [], error_response(400, "InvalidInput", "marketplaceIds is required.")
    return marketplace_ids, None


@sp_api_operation("getListingsItem")
def get_listings_item(
    request: HttpRequest, access: SandboxAccessToken, seller_id: str, sku: str
) -> HttpResponse:
    marketplace_ids, refusal = _check(request, access, seller_id)
    if refusal:
        return refusal
    included = set(query_list(request, "includedData")) or {"summaries"}
    unknown = included - INCLUDED_DATA
    if unknown:
        return error_response(400, "InvalidInput", f"Invalid includedData: {', '.join(sorted(unknown))}.")
    listings = list(
        SandboxListing.objects.select_related("marketplace").filter(
            seller=access.seller, sku=sku, marketplace__marketplace_id__in=marketplace_ids
        )
    )
    if not listings:
        return error_response(
            404, "NotFound", f"SKU '{sku}' not found in marketplaces {', '.join(marketplace_ids)}."
        )
    return JsonResponse(_listing_as_wire(sku, listings, included))


@sp_api_operation("patchListingsItem")
def patch_listings_item(
    request: HttpRequest, access: SandboxAccessToken, seller_id: str, sku: str
) -> HttpResponse:
    marketplace_ids, refusal = _check(request, access, seller_id)
    if refusal:
        return refusal
    try:
        status, issues = sandbox_listing_patch(
            seller=access.seller, sku=sku, marketplace_ids=marketplace_ids, body=json_body(request)
        )
    except SpApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    return JsonResponse({"sku": sku, "status": status, "submissionId": uuid.uuid4().hex, "issues": issues})


_SEARCH_ARRAYS = (
    "marketplaceIds",
    "includedData",
    "identifiers",
    "withIssueSeverity",
    "withStatus",
    "withoutStatus",
)


@csrf_exempt
@require_http_methods(["GET"])
def listings_items(request: HttpRequest, seller_id: str) -> HttpResponse:
    return search_listings_items(request, seller_id=seller_id)


@sp_api_operation("searchListingsItems")
def search_listings_items(request: HttpRequest, access: SandboxAccessToken, seller_id: str) -> HttpResponse:
    if seller_id != access.seller.selling_partner_id:
        return error_response(403, "Unauthorized", "Access to requested resource is denied.")
    included = set(query_list(request, "includedData")) or {"summaries"}
    unknown = included - INCLUDED_DATA
    if unknown:
        return error_response(400, "InvalidInput", f"Invalid includedData: {', '.join(sorted(unknown))}.")
    try:
        search, offset = listings_search_parse(
            params={name: query_list(request, name) for name in _SEARCH_ARRAYS},
            one={name: request.GET.get(name, "") for name in request.GET if name not in _SEARCH_ARRAYS},
        )
        page = sandbox_listings_search(seller=access.seller, search=search, offset=offset)
    except SpApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    body: dict = {
        "numberOfResults": page.number_of_results,
        "items": [_listing_as_wire(sku, page.listings[sku], included) for sku in page.skus],
    }
    pagination = {}
    if page.next_token:
        pagination["nextToken"] = page.next_token
    if page.previous_token:
        pagination["previousToken"] = page.previous_token
    if pagination:
        body["pagination"] = pagination
    return JsonResponse(body)

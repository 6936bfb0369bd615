"""Orders API 2026-01-01 (searchOrders, getOrder) and v0 confirmShipment."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from ..api import error_response, json_body, query_list, sp_api_operation
from ..errors import SpApiError
from ..faults import order_change_between_pages, order_search_page_order
from ..models import SandboxAccessToken
from ..selectors import (
    OrderSearch,
    SearchError,
    iso,
    order_as_wire,
    order_search_from_params,
    orders_for_wire,
    orders_search,
)
from ..shipments import sandbox_shipment_confirm

INCLUDED_DATA = {
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
}


def _included(request: HttpRequest) -> set[str]:
    values = set(query_list(request, "includedData"))
    unknown = values - INCLUDED_DATA
    if unknown:
        raise SearchError(f"Invalid includedData: {', '.join(sorted(unknown))}.")
    return values


@require_GET
@sp_api_operation("searchOrders")
def search_orders(request: HttpRequest, access: SandboxAccessToken) -> JsonResponse:
    q = request.GET
    try:
        included = _included(request)
        token = q.get("paginationToken", "")
        if token:
            # The token carries the whole search; includedData may be repeated or left out.
            search = OrderSearch.from_token(token)
            included = included or set(search.included)
        else:
            search = order_search_from_params(
                created_after=q.get("createdAfter", ""),
                created_before=q.get("createdBefore", ""),
                last_updated_after=q.get("lastUpdatedAfter", ""),
                last_updated_before=q.get("lastUpdatedBefore", ""),
                statuses=query_list(request, "fulfillmentStatuses"),
                marketplace_ids=query_list(request, "marketplaceIds"),
                fulfilled_by=query_list(request, "fulfilledBy"),
                max_results=q.get("maxResultsPerPage", ""),
                included=tuple(included),
            )
            search = order_search_page_order(search)
    except SearchError as exc:
        return error_response(400, "InvalidInput", str(exc))
    if search.position:
        order_change_between_pages(seller=access.seller, search=search)
    orders, next_search = orders_search(seller=access.seller, search=search)
    body: dict = {"orders": [order_as_wire(o, included=included) for o in orders]}
    if next_search is not None:
        body["pagination"] = {"nextToken": next_search.to_token()}
    body["lastUpdatedBefore" if search.by == "updated" else "createdBefore"] = iso(search.before)
    return JsonResponse(body)


@require_GET
@sp_api_operation("getOrder")
def get_order(request: HttpRequest, access: SandboxAccessToken, order_id: str) -> HttpResponse:
    try:
        included = _included(request)
    except SearchError as exc:
        return error_response(400, "InvalidInput", str(exc))
    order = orders_for_wire().filter(seller=access.seller, order_id=order_id).first()
    if order is None:
        return error_response(404, "NotFound", f"Order {order_id} was not found.")
    return JsonResponse({"order": order_as_wire(order, included=included)})


@require_POST
@sp_api_operation("confirmShipment")
def confirm_shipment(request: HttpRequest, access: SandboxAccessToken, order_id: str) -> HttpResponse:
    try:
        sandbox_shipment_confirm(seller=access.seller, order_id=order_id, body=json_body(request))
    except SpApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details)
    return HttpResponse(status=204)

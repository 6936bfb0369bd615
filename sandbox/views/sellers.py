from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from ..api import sp_api_operation
from ..models import SandboxAccessToken
from ..selectors import marketplace_domain


@require_GET
@sp_api_operation("getMarketplaceParticipations")
def marketplace_participations(request: HttpRequest, access: SandboxAccessToken) -> JsonResponse:
    seller = access.seller
    payload = [
        {
            "marketplace": {
                "id": m.marketplace_id,
                "name": marketplace_domain(m.code).capitalize(),
                "countryCode": "GB" if m.code == "UK" else m.code,
                "defaultCurrencyCode": m.currency,
                "defaultLanguageCode": m.default_language,
                "domainName": "www." + marketplace_domain(m.code),
            },
            "participation": {"isParticipating": True, "hasSuspendedListings": False},
            "storeName": seller.name,
        }
        for m in seller.marketplaces.order_by("code")
    ]
    return JsonResponse({"payload": payload})

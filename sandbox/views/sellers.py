from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from connections.models import Marketplace

from ..api import sp_api_operation
from ..models import SandboxAccessToken
from ..selectors import marketplace_domain


@require_GET
@sp_api_operation("getMarketplaceParticipations")
def marketplace_participations(request: HttpRequest, access: SandboxAccessToken) -> JsonResponse:
    seller = access.seller
    not_participating = set(seller.not_participating_in.values_list("pk", flat=True))
    suspended = set(seller.listings_suspended_in.values_list("pk", flat=True))
    listed = set(seller.marketplaces.values_list("pk", flat=True)) | not_participating | suspended
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
            "participation": {
                "isParticipating": m.pk not in not_participating,
                "hasSuspendedListings": m.pk in suspended,
            },
            "storeName": seller.name,
        }
        for m in Marketplace.objects.filter(pk__in=listed).order_by("code")
    ]
    return JsonResponse({"payload": payload})

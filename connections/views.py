"""Thin views for Amazon's website authorization workflow; logic is in services."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from fulfillment.ops.roles import stores_visible

from . import services
from .models import OAuthState, Store


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "connections/oauth_result.html", {"ok": False, "message": message}, status=400)


def _redirect_to_consent(request: HttpRequest, *, store: Store, flow: str) -> HttpResponse:
    url, nonce = services.oauth_start(store=store, flow=flow)
    # Binds the state to this browser: a callback in another session is refused.
    request.session[services.SESSION_NONCE_KEY] = nonce
    return HttpResponseRedirect(url)


@staff_member_required
@require_GET
def store_authorize(request: HttpRequest, store_id: int) -> HttpResponse:
    """ "Authorize" for a merchant managing its own account: off to Seller Central."""
    if not request.user.has_perm("connections.change_store"):
        return _refused(request, "You may not authorize stores.")
    # A merchant's user may authorize only that merchant's stores; another
    # merchant's store answers 404, as in the admin.
    visible = stores_visible(user=request.user)
    store = get_object_or_404(visible.select_related("marketplace"), pk=store_id)
    return _redirect_to_consent(request, store=store, flow=OAuthState.Flow.SELF)


@require_GET
def merchant_authorize(request: HttpRequest, token: str) -> HttpResponse:
    """The link emailed to a merchant: no login, the signed token is the key."""
    try:
        store = services.merchant_link_store(token=token)
    except services.AuthorizationRefused as exc:
        return _refused(request, exc.message)
    return _redirect_to_consent(request, store=store, flow=OAuthState.Flow.MERCHANT_LINK)


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    params = request.GET
    session_nonce = request.session.pop(services.SESSION_NONCE_KEY, None)
    try:
        store = services.oauth_callback_complete(
            state=params.get("state", ""),
            session_nonce=session_nonce,
            code=params.get("spapi_oauth_code", ""),
            selling_partner_id=params.get("selling_partner_id", ""),
            error=params.get("error", ""),
            error_description=params.get("error_description", ""),
        )
    except services.AuthorizationRefused as exc:
        return _refused(request, exc.message)
    if store.authorization_status == Store.Authorization.AUTHORIZED_BY_MERCHANT:
        message = (
            f"Thank you. {store.warehouse.name} will finish connecting your Amazon store "
            f"({store.marketplace}) shortly."
        )
    else:
        message = f"The store “{store.name}” is connected to Amazon ({store.marketplace})."
    return render(request, "connections/oauth_result.html", {"ok": True, "message": message, "store": store})

"""Thin views for Amazon's website authorization workflow; logic is in services."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods

from connections.scoping import stores_visible
from fulfillment.jobs.schedules import schedules_sync

from . import services
from .models import OAuthState, Store


def _refused(
    request: HttpRequest, message: str, *, status: int = 400, store_changed: bool = False
) -> HttpResponse:
    context = {"ok": False, "message": message, "store_changed": store_changed}
    return render(request, "connections/oauth_result.html", context, status=status)


def _redirect_to_consent(request: HttpRequest, url: str, nonce: str) -> HttpResponse:
    # Binds the state to this browser: a callback in another session is refused.
    request.session[services.SESSION_NONCE_KEY] = nonce
    if not request.user.is_authenticated:
        # A merchant's session exists only for this consent: let the purge take it soon.
        request.session.set_expiry(settings.OAUTH_STATE_MAX_AGE_SECONDS)
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
    url, nonce = services.oauth_start(store=store, flow=OAuthState.Flow.SELF)
    return _redirect_to_consent(request, url, nonce)


@never_cache
@sensitive_post_parameters("token")
@require_http_methods(["GET", "POST"])
@sensitive_variables("token")  # innermost: it hides the locals of the function it wraps directly
def merchant_link(request: HttpRequest) -> HttpResponse:
    """The link emailed to a merchant: no login, the token is the key.

    GET only explains what will happen and writes nothing (mail scanners and
    link previews open links too); the page POSTs the token back to start.
    """
    token = (request.POST if request.method == "POST" else request.GET).get("token", "")
    try:
        if request.method == "POST":
            url, nonce = services.merchant_link_start(token=token)
            return _redirect_to_consent(request, url, nonce)
        link = services.merchant_link_open(token=token)
    except services.AuthorizationRefused as exc:
        return _refused(request, exc.message, status=exc.status)
    response = render(
        request,
        "connections/merchant_link.html",
        {
            "store": link.store,
            "warehouse": link.store.warehouse,
            "token": token,
            "expires_at": link.expires_at,
        },
    )
    # The token is in this page's URL: never send it on as a referrer.
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def merchant_link_retired(request: HttpRequest, token: str) -> HttpResponse:
    """Links of the earlier format (the token in the path) no longer start anything."""
    return _refused(
        request,
        "This link is from an earlier email and no longer works. Ask your warehouse to send a new one.",
        status=410,
    )


@never_cache
@require_GET
@sensitive_variables("params", "state", "session_nonce")
def oauth_callback(request: HttpRequest) -> HttpResponse:
    params = request.GET
    state = params.get("state", "")
    session_nonce = request.session.get(services.SESSION_NONCE_KEY)
    # Only the answer to the consent this browser is waiting for ends it; a
    # stray callback is refused below and leaves the pending consent alone.
    if services.oauth_state_is_pending(state=state, session_nonce=session_nonce):
        del request.session[services.SESSION_NONCE_KEY]
    try:
        store = services.oauth_callback_complete(
            state=state,
            session_nonce=session_nonce,
            code=params.get("spapi_oauth_code", ""),
            selling_partner_id=params.get("selling_partner_id", ""),
            error=params.get("error", ""),
            error_description=params.get("error_description", ""),
        )
    except services.AuthorizationRefused as exc:
        if exc.store_changed:
            schedules_sync()  # a store Amazon ruled out leaves its jobs
        return _refused(request, exc.message, status=exc.status, store_changed=exc.store_changed)
    schedules_sync(store=store)  # connected: its jobs are scheduled now
    if store.authorization_status == Store.Authorization.AUTHORIZED_BY_MERCHANT:
        message = (
            f"Thank you. {store.warehouse.name} will finish connecting your Amazon store "
            f"({store.marketplace}) shortly."
        )
    else:
        message = f"The store “{store.name}” is connected to Amazon ({store.marketplace})."
    return render(request, "connections/oauth_result.html", {"ok": True, "message": message, "store": store})

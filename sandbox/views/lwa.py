"""Login with Amazon: the token endpoint and the seller consent page."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ..models import SandboxApplication, SandboxSeller
from ..sellers import LwaError, authorization_code_issue, lwa_token_grant


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> JsonResponse:
    form = request.POST
    try:
        body = lwa_token_grant(
            grant_type=form.get("grant_type", ""),
            client_id=form.get("client_id", ""),
            client_secret=form.get("client_secret", ""),
            refresh_token=form.get("refresh_token", ""),
            code=form.get("code", ""),
            redirect_uri=form.get("redirect_uri", ""),
            scope=form.get("scope", ""),
        )
    except LwaError as exc:
        return JsonResponse(exc.as_body(), status=exc.status)
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


def _redirect_with(uri: str, params: dict) -> HttpResponseRedirect:
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return HttpResponseRedirect(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")))


@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest) -> HttpResponse:
    """Seller Central's "Authorize application" page, for sandbox sellers."""
    params = request.POST if request.method == "POST" else request.GET
    application_id = params.get("application_id", "")
    state = params.get("state", "")
    application = SandboxApplication.objects.filter(application_id=application_id).first()
    if application is None:
        return render(
            request,
            "sandbox/consent_error.html",
            {"message": f"No application with id {application_id!r} is registered with the sandbox."},
            status=400,
        )
    redirect_uri = params.get("redirect_uri") or application.redirect_uri
    sellers = SandboxSeller.objects.order_by("selling_partner_id")

    if request.method == "POST":
        if "deny" in request.POST:
            return _redirect_with(redirect_uri, {"error": "access_denied", "state": state})
        seller = sellers.filter(pk=request.POST.get("seller") or None).first()
        if seller is not None:
            code = authorization_code_issue(application=application, seller=seller, redirect_uri=redirect_uri)
            return _redirect_with(
                redirect_uri,
                {
                    "spapi_oauth_code": code.code,
                    "state": state,
                    "selling_partner_id": seller.selling_partner_id,
                },
            )
    return render(
        request,
        "sandbox/consent.html",
        {
            "application": application,
            "sellers": sellers,
            "state": state,
            "redirect_uri": params.get("redirect_uri", ""),
            "version": params.get("version", ""),
            "error": "Choose a seller account." if request.method == "POST" else "",
        },
    )

"""The second-factor pages of the admin login: enrol an authenticator app, enter a code,
see recovery codes once. Mounted by the admin site (fulfillment/admin_site.py).

Server-rendered only: the QR code is an SVG image served by the site (no CDN,
no JavaScript), so the pages work under a strict Content-Security-Policy.
"""

from __future__ import annotations

import io
from base64 import b32encode
from functools import wraps

import qrcode
import qrcode.image.svg
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp.plugins.otp_totp.models import TOTPDevice

from fulfillment.accounts.forms import TokenForm
from fulfillment.accounts.selectors import mfa_enrolled, recovery_codes_left
from fulfillment.accounts.services import (
    mfa_enrolment_confirm,
    mfa_enrolment_device,
    mfa_verify,
    recovery_codes_replace,
)


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")


def _context(request: HttpRequest, **extra) -> dict:
    # The admin's look without its menus: nothing of the admin shows before the second factor.
    return {
        "site_header": admin.site.site_header,
        "site_title": admin.site.site_title,
        "has_permission": False,
        "is_nav_sidebar_enabled": False,
        "available_apps": [],
        "next": _next_url(request),
        **extra,
    }


def password_signed_in(view):
    """Only for a staff user who has signed in with their password (verified or not)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return redirect(f"{reverse('admin:login')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return never_cache(csrf_protect(wrapper))


@password_signed_in
def mfa_verify_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not mfa_enrolled(user=user):
        return redirect(f"{reverse('admin:mfa_setup')}?{urlencode({'next': _next_url(request)})}")
    if user.is_verified():
        return redirect(_next_url(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa_verify(request=request, user=user, token=form.cleaned_data["token"]):
            return redirect(_next_url(request))
        form.add_error(
            "token", "That code is not valid. Check the time on your phone; after several wrong codes, wait."
        )
    return render(
        request,
        "accounts/mfa_verify.html",
        _context(request, title="Two-factor authentication", form=form),
        status=200 if request.method == "GET" or form.is_valid() else 400,
    )


@password_signed_in
def mfa_setup_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if mfa_enrolled(user=user):
        # Replacing an enrolled app is a reset by an administrator (lost phone), not self-service.
        return redirect(f"{reverse('admin:mfa_verify')}?{urlencode({'next': _next_url(request)})}")
    device = mfa_enrolment_device(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        codes = mfa_enrolment_confirm(request=request, user=user, device=device, token=token)
        if codes is not None:
            # The session is verified now: the page is an ordinary admin page.
            return render(
                request,
                "accounts/recovery_codes.html",
                {
                    **admin.site.each_context(request),
                    "title": "Your recovery codes",
                    "codes": codes,
                    "next": _next_url(request),
                },
            )
        form.add_error(
            "token", "That code does not match. Scan the code again and enter the number shown now."
        )
    return render(
        request,
        "accounts/mfa_setup.html",
        _context(
            request,
            title="Set up two-factor authentication",
            form=form,
            secret=_grouped(b32encode(device.bin_key).decode("ascii")),
        ),
        status=200 if request.method == "GET" else 400,
    )


@password_signed_in
def mfa_setup_qr_view(request: HttpRequest) -> HttpResponse:
    """The enrolment QR code (the otpauth:// URI of the device being set up) as SVG."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("pk").first()
    if device is None:
        return HttpResponseNotFound("No authenticator app is being set up.")
    out = io.BytesIO()
    qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(out)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    """Verified users: how many recovery codes are left, and a new set on request (shown once)."""
    if request.method == "POST":
        codes = recovery_codes_replace(user=request.user)
        return render(
            request,
            "accounts/recovery_codes.html",
            {**admin.site.each_context(request), "title": "Your recovery codes", "codes": codes},
        )
    return render(
        request,
        "accounts/recovery_codes.html",
        {
            **admin.site.each_context(request),
            "title": "Recovery codes",
            "left": recovery_codes_left(user=request.user),
        },
    )


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))

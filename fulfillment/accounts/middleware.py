"""No page for a staff session that has not passed the second factor.

The admin site refuses such a session too (`FulfillmentAdminSite.has_permission`);
this also covers every view outside the admin that a staff user can open
(`staff_member_required` views such as store authorization), including ones
added later.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

# Reachable on the way to the second factor.
_OPEN_URL_NAMES = ("admin:login", "admin:logout", "admin:mfa_verify", "admin:mfa_setup", "admin:mfa_setup_qr")


def mfa_pending(request: HttpRequest) -> bool:
    """A staff user signed in with a password whose session has not passed the second factor."""
    if not settings.ADMIN_MFA_REQUIRED:
        return False
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not (user.is_active and user.is_staff):
        return False
    # auth.login() swaps in a plain user without django-otp's is_verified(): not verified yet.
    is_verified = getattr(user, "is_verified", None)
    return not (is_verified is not None and is_verified())


class MfaRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if settings.ADMIN_MFA_REQUIRED and mfa_pending(request) and not self._open(request):
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return redirect(f"{reverse('admin:mfa_verify')}{'?' + query if query else ''}")
        return self.get_response(request)

    @staticmethod
    def _open(request: HttpRequest) -> bool:
        if request.path.startswith(f"/{settings.STATIC_URL.lstrip('/')}"):
            return True
        return request.path in {reverse(name) for name in _OPEN_URL_NAMES}

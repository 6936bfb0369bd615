from django.contrib import admin
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode


class FulfillmentAdminSite(admin.AdminSite):
    site_header = "Fulfillment Bridge"
    site_title = "Fulfillment Bridge"
    index_title = "Amazon stores and warehouse operations"

    def index(self, request, extra_context=None):
        # The home page is the operations dashboard (templates/admin/index.html).
        from fulfillment.ops.selectors import dashboard_for, notification_health_for

        now = timezone.now()
        dashboard = dashboard_for(user=request.user, now=now)
        notifications = notification_health_for(user=request.user, now=now)
        return super().index(
            request, {**(extra_context or {}), "dashboard": dashboard, "notification_health": notifications}
        )

    # --- Login: password, then the second factor (ADMIN_MFA_REQUIRED) -------------

    def has_permission(self, request):
        from fulfillment.accounts.middleware import mfa_pending

        return super().has_permission(request) and not mfa_pending(request)

    def login(self, request, extra_context=None):
        """After the password, a staff user goes to the code (or enrolment) page, then on."""
        from fulfillment.accounts.middleware import mfa_pending

        if request.method == "GET" and mfa_pending(request):
            return redirect(self._mfa_url(request.GET.get("next") or reverse("admin:index")))
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 302 and mfa_pending(request):
            return redirect(self._mfa_url(response.url))
        return response

    @staticmethod
    def _mfa_url(next_url: str) -> str:
        return f"{reverse('admin:mfa_verify')}?{urlencode({'next': next_url})}"

    def get_urls(self):
        from fulfillment.accounts import views

        return [
            path("mfa/", views.mfa_verify_view, name="mfa_verify"),
            path("mfa/setup/", views.mfa_setup_view, name="mfa_setup"),
            path("mfa/setup/qr.svg", views.mfa_setup_qr_view, name="mfa_setup_qr"),
            path(
                "mfa/recovery-codes/", self.admin_view(views.recovery_codes_view), name="mfa_recovery_codes"
            ),
            *super().get_urls(),
        ]
